import { describe, expect, it } from "vitest";
import { DAY, isoInstant } from "./clock.js";

describe("isoInstant", () => {
  it("writes what Date's toISOString writes", () => {
    const instants = [
      0,
      1,
      999,
      DAY - 1,
      DAY,
      Date.UTC(1972, 1, 29, 12),
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(2000, 2, 1),
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2100, 1, 28, 12),
      Date.UTC(2100, 2, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    ];
    // And 20,000 more across the years a deadline can be, the same ones each run.
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 48_271) % 2_147_483_647;
      instants.push(Math.floor((seed / 2_147_483_647) * Date.UTC(9999, 11, 31)));
    }
    for (const ms of instants) expect(isoInstant(ms)).toBe(new Date(ms).toISOString());
  });

  it("leaves to Date what is outside four-digit years or not a whole millisecond", () => {
    for (const ms of [-1, Date.UTC(1969, 11, 31, 23, 59, 59, 999), Date.UTC(10_000, 0, 1), 1.5])
      expect(isoInstant(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoInstant(Number.NaN)).toThrow(RangeError);
  });
});
