import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { calendarOf, publicHolidays } from "./calendar.js";
import { demoOrganisation, parseOrganisation } from "./config.js";
import type { Team } from "./model.js";

const team = (id: string): Team => demoOrganisation.teams.find((candidate) => candidate.id === id)!;
const maastricht = team("maastricht");
const casablanca = team("casablanca");
const corp = team("corp");

/** A local wall-clock time of the team ("2026-03-27T16:00") as epoch-ms. */
const at = (t: Team, local: string): number => {
  const time = DateTime.fromISO(local, { zone: t.timeZone });
  expect(time.isValid).toBe(true);
  return time.toMillis();
};
const utc = (ms: number) => new Date(ms).toISOString();
const HOUR = 60;

describe("business calendar: the rules", () => {
  const cal = calendarOf(maastricht);

  it("is open from the opening time up to, not including, the closing time", () => {
    expect(cal.isOpen(at(maastricht, "2026-11-30T07:59:59"))).toBe(false);
    expect(cal.isOpen(at(maastricht, "2026-11-30T08:00"))).toBe(true);
    expect(cal.isOpen(at(maastricht, "2026-11-30T17:59:59"))).toBe(true);
    expect(cal.isOpen(at(maastricht, "2026-11-30T18:00"))).toBe(false);
    expect(cal.isOpen(at(maastricht, "2026-11-28T10:00"))).toBe(false); // Saturday
  });

  it("keeps a deadline that lands exactly on closing time at closing time", () => {
    expect(cal.addBusinessMinutes(at(maastricht, "2026-11-30T14:00"), 4 * HOUR)).toBe(
      at(maastricht, "2026-11-30T18:00"),
    );
    // One minute more goes to the next morning.
    expect(cal.addBusinessMinutes(at(maastricht, "2026-11-30T14:00"), 4 * HOUR + 1)).toBe(
      at(maastricht, "2026-12-01T08:01"),
    );
  });

  it("counts a start outside business hours from the next opening", () => {
    expect(cal.addBusinessMinutes(at(maastricht, "2026-11-28T10:00"), HOUR)).toBe(
      at(maastricht, "2026-11-30T09:00"),
    );
    expect(cal.addBusinessMinutes(at(maastricht, "2026-11-30T18:00"), 1)).toBe(
      at(maastricht, "2026-12-01T08:01"),
    );
    expect(cal.addBusinessMinutes(at(maastricht, "2026-11-30T06:30"), 30)).toBe(
      at(maastricht, "2026-11-30T08:30"),
    );
    expect(cal.nextOpening(at(maastricht, "2026-11-28T10:00"))).toBe(at(maastricht, "2026-11-30T08:00"));
    expect(cal.nextOpening(at(maastricht, "2026-11-30T10:00"))).toBe(at(maastricht, "2026-11-30T10:00"));
    expect(cal.addBusinessMinutes(at(maastricht, "2026-11-30T18:00"), 0)).toBe(
      at(maastricht, "2026-12-01T08:00"),
    );
  });

  it("counts business minutes between two instants, 0 when they are the wrong way round", () => {
    expect(
      cal.businessMinutesBetween(at(maastricht, "2026-11-27T17:00"), at(maastricht, "2026-11-30T09:30")),
    ).toBe(150);
    expect(
      cal.businessMinutesBetween(at(maastricht, "2026-11-28T00:00"), at(maastricht, "2026-11-29T23:59")),
    ).toBe(0);
    expect(
      cal.businessMinutesBetween(at(maastricht, "2026-11-30T12:00"), at(maastricht, "2026-11-30T10:00")),
    ).toBe(0);
  });

  it("refuses a negative number of minutes", () => {
    expect(() => cal.addBusinessMinutes(at(maastricht, "2026-11-30T12:00"), -1)).toThrow(RangeError);
  });
});

describe("business calendar: worked examples", () => {
  it("maastricht across the spring DST change (Europe/Amsterdam, Sunday 2026-03-29)", () => {
    // Fri 16:00 CET + 4 h: 2 h on Friday, 2 h from Monday 08:00 CEST = 10:00 CEST = 08:00 UTC.
    const start = at(maastricht, "2026-03-27T16:00");
    const due = calendarOf(maastricht).addBusinessMinutes(start, 4 * HOUR);
    expect(utc(due)).toBe("2026-03-30T08:00:00.000Z");
    expect(calendarOf(maastricht).businessMinutesBetween(start, due)).toBe(240);
  });

  it("maastricht across the autumn DST change (Europe/Amsterdam, Sunday 2026-10-25)", () => {
    // Fri 17:00 CEST + 8 h: 1 h on Friday, 7 h from Monday 08:00 CET = 15:00 CET = 14:00 UTC.
    const due = calendarOf(maastricht).addBusinessMinutes(at(maastricht, "2026-10-23T17:00"), 8 * HOUR);
    expect(utc(due)).toBe("2026-10-26T14:00:00.000Z");
  });

  it("corp across the LA spring change (America/Los_Angeles, Sunday 2026-03-08)", () => {
    // Fri 15:00 PST + 8 h: 2 h on Friday, 6 h from Monday 09:00 PDT = 15:00 PDT = 22:00 UTC.
    const due = calendarOf(corp).addBusinessMinutes(at(corp, "2026-03-06T15:00"), 8 * HOUR);
    expect(utc(due)).toBe("2026-03-09T22:00:00.000Z");
  });

  it("corp across the LA autumn change (America/Los_Angeles, Sunday 2026-11-01)", () => {
    // Fri 13:00 PDT + 8 h: 4 h on Friday, 4 h from Monday 09:00 PST = 13:00 PST = 21:00 UTC.
    const due = calendarOf(corp).addBusinessMinutes(at(corp, "2026-10-30T13:00"), 8 * HOUR);
    expect(utc(due)).toBe("2026-11-02T21:00:00.000Z");
  });

  it("maastricht skips King's Day (Monday 27 April 2026)", () => {
    const cal = calendarOf(maastricht);
    expect(cal.isOpen(at(maastricht, "2026-04-27T10:00"))).toBe(false);
    // Fri 14:00 + 8 h: 4 h on Friday, Monday closed, 4 h from Tuesday 08:00 = 12:00 CEST = 10:00 UTC.
    expect(utc(cal.addBusinessMinutes(at(maastricht, "2026-04-24T14:00"), 8 * HOUR))).toBe(
      "2026-04-28T10:00:00.000Z",
    );
  });

  it("maastricht skips Christmas and Boxing Day, but not Christmas Eve", () => {
    const cal = calendarOf(maastricht);
    expect(cal.isOpen(at(maastricht, "2026-12-24T12:00"))).toBe(true);
    expect(cal.isOpen(at(maastricht, "2026-12-25T12:00"))).toBe(false);
    // Thu 24 Dec 16:00 + 4 h: 2 h on Thursday, Fri 25 closed, weekend, 2 h from Mon 28 08:00.
    expect(cal.addBusinessMinutes(at(maastricht, "2026-12-24T16:00"), 4 * HOUR)).toBe(
      at(maastricht, "2026-12-28T10:00"),
    );
    // Resolution (3 d = 30 h) from Wed 23 Dec 10:00: 8 + 10 h, then 10 h on Mon 28, 2 h on Tue 29.
    expect(cal.addBusinessMinutes(at(maastricht, "2026-12-23T10:00"), 30 * HOUR)).toBe(
      at(maastricht, "2026-12-29T10:00"),
    );
  });

  it("corp skips US Thanksgiving (Thursday 2026-11-26) but not the Friday after", () => {
    const cal = calendarOf(corp);
    expect(cal.isOpen(at(corp, "2026-11-26T10:00"))).toBe(false);
    // Wed 15:00 PST + 8 h: 2 h on Wednesday, Thursday closed, 6 h from Friday 09:00 = 15:00 PST = 23:00 UTC.
    expect(utc(cal.addBusinessMinutes(at(corp, "2026-11-25T15:00"), 8 * HOUR))).toBe(
      "2026-11-27T23:00:00.000Z",
    );
  });

  it("casablanca is open on Saturday and closed on Sunday", () => {
    const cal = calendarOf(casablanca);
    expect(cal.isOpen(at(casablanca, "2026-11-28T10:00"))).toBe(true);
    expect(cal.isOpen(at(casablanca, "2026-11-29T10:00"))).toBe(false);
    // Sat 18:00 + 4 h: 2 h on Saturday (to 20:00), Sunday closed, 2 h from Monday 08:00 (+01) = 09:00 UTC.
    expect(utc(cal.addBusinessMinutes(at(casablanca, "2026-11-28T18:00"), 4 * HOUR))).toBe(
      "2026-11-30T09:00:00.000Z",
    );
  });

  it("casablanca follows Morocco's Ramadan offset (+01 -> +00 on 2026-02-15, back on 2026-03-22)", () => {
    const cal = calendarOf(casablanca);
    expect(DateTime.fromISO("2026-03-01T12:00", { zone: "Africa/Casablanca" }).offset).toBe(0);
    // Sat 14 Feb 18:00 (+01) + 4 h: 2 h on Saturday, 2 h from Mon 16 Feb 08:00 (+00): 10:00 UTC.
    expect(utc(cal.addBusinessMinutes(Date.UTC(2026, 1, 14, 17), 4 * HOUR))).toBe("2026-02-16T10:00:00.000Z");
    // Sat 21 Mar 19:00 (+00) + 4 h: 1 h on Saturday, 3 h from Mon 23 Mar 08:00 (+01): 11:00 local, 10:00 UTC.
    expect(utc(cal.addBusinessMinutes(Date.UTC(2026, 2, 21, 19), 4 * HOUR))).toBe("2026-03-23T10:00:00.000Z");
  });

  it("takes holidays from date-holidays, public days only", () => {
    const dates = publicHolidays(corp, 2026).map((holiday) => holiday.date);
    expect(dates).toContain("2026-11-26");
    expect(dates).toContain("2026-07-03"); // Independence Day observed on the Friday
    expect(publicHolidays(casablanca, 2026)).toEqual([]);
  });
});

/** Teams with split days, midnight openings and closings, and zones whose DST changes at midnight. */
const unusual = parseOrganisation(`
teams:
  - {id: night, name: Night, tier: 1, languages: [en, other], countries: any, timeZone: Pacific/Auckland,
     hours: {Mon-Fri: "00:00-06:00, 22:00-24:00", Sat: "09:00-12:00, 13:00-17:00"}, holidays: NZ,
     email: night@support.example}
  - {id: santiago, name: Santiago, tier: 3, languages: [es], countries: any, timeZone: America/Santiago,
     hours: {Sun: "00:00-02:00", Mon-Sat: "00:00-24:00"}, holidays: CL, email: santiago@support.example}
`).teams;

describe("business calendar: properties", () => {
  const teams = [...demoOrganisation.teams, ...unusual];
  const anyTeam = fc.constantFrom(...teams);
  // 2025-01-01 .. 2029-01-01: several DST changes and holiday years, instants not on whole minutes.
  const instant = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2029, 0, 1) });
  const minutes = fc.integer({ min: 0, max: 20_000 });

  it("counts back exactly the minutes it added", () => {
    fc.assert(
      fc.property(anyTeam, instant, minutes, (t, start, m) => {
        const cal = calendarOf(t);
        expect(cal.businessMinutesBetween(start, cal.addBusinessMinutes(start, m))).toBe(m);
      }),
      { numRuns: 300 },
    );
  });

  it("never lands inside a closed period, except exactly at a closing time", () => {
    fc.assert(
      fc.property(anyTeam, instant, minutes, (t, start, m) => {
        const cal = calendarOf(t);
        const due = cal.addBusinessMinutes(start, m);
        expect(due).toBeGreaterThanOrEqual(start);
        expect(cal.isOpen(due) || (m > 0 && cal.isOpen(due - 1))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("is strictly monotonic in the minutes", () => {
    fc.assert(
      fc.property(anyTeam, instant, minutes, minutes, (t, start, a, b) => {
        fc.pre(a !== b);
        const cal = calendarOf(t);
        const [low, high] = a < b ? [a, b] : [b, a];
        expect(cal.addBusinessMinutes(start, low)).toBeLessThan(cal.addBusinessMinutes(start, high));
      }),
      { numRuns: 200 },
    );
  });

  it("adds up business time over consecutive intervals and never exceeds wall time", () => {
    fc.assert(
      fc.property(anyTeam, instant, instant, instant, (t, x, y, z) => {
        const [a, b, c] = [x, y, z].sort((p, q) => p - q) as [number, number, number];
        fc.pre(c - a < 400 * 86_400_000);
        const cal = calendarOf(t);
        const ms = (from: number, to: number) => Math.round(cal.businessMinutesBetween(from, to) * 60_000);
        expect(ms(a, b) + ms(b, c)).toBe(ms(a, c));
        expect(ms(a, c)).toBeLessThanOrEqual(c - a);
      }),
      { numRuns: 100 },
    );
  });
});
