import { describe, expect, it } from "vitest";
import { KeyedSerializer } from "./serializer.js";

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("work about one key, one at a time", () => {
  it("runs one key's work in order, other keys meanwhile, and forgets settled keys", async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const job = (key: string, name: string, ms: number) =>
      serializer.run(key, async () => {
        log.push(`${name} start`);
        await later(ms);
        log.push(`${name} end`);
        return name;
      });
    const results = await Promise.all([job("a", "a1", 20), job("a", "a2", 1), job("b", "b1", 5)]);
    expect(results).toEqual(["a1", "a2", "b1"]);
    // a2 waits for a1; b1 does not wait for either.
    expect(log.indexOf("a2 start")).toBeGreaterThan(log.indexOf("a1 end"));
    expect(log.indexOf("b1 start")).toBeLessThan(log.indexOf("a1 end"));
    await later(0);
    expect(serializer.size).toBe(0);
  });

  it("goes on with the next work when one fails, and hands each caller its own outcome", async () => {
    const serializer = new KeyedSerializer();
    const failing = serializer.run("a", async () => {
      throw new Error("refused");
    });
    const next = serializer.run("a", async () => "ran");
    await expect(failing).rejects.toThrow("refused");
    await expect(next).resolves.toBe("ran");
  });
});
