// The parser ships its types as an ambient module that its package.json "exports" do not point at.
/// <reference path="../../node_modules/date-holidays-parser/types/index.d.ts" />
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type HolidaysParser from "date-holidays-parser";

/**
 * Public-holiday data of the countries the organisation uses, and nothing more.
 *
 * `date-holidays` is its parser (`date-holidays-parser`) plus an 800 KB object of every country's
 * rules, built into the process when it is imported (17 MiB resident). Sesame reads that file
 * (`date-holidays/data/holidays.json`) when the organisation is loaded, keeps the entries of the
 * countries its teams use (and the entries they reference: the shared `names`, the countries whose
 * `days` they borrow) plus each country's main time zone, and lets the rest be collected. The
 * calendars are the same parser on the same rules, so they give the same days.
 *
 * The parser itself, with what it computes dates with (astronomy tables for equinoxes, the Chinese,
 * Hebrew, Hijri and Bengali calendars, moment-timezone and its zones: about 15 MiB resident), is
 * loaded when a holiday is first looked up or a holiday code checked, not at start.
 */

type Parser = typeof HolidaysParser;
let parserClass: Parser | null = null;
const parser = (): Parser => {
  // Its CommonJS build, required synchronously: calendars are computed in synchronous code.
  parserClass ??= (createRequire(import.meta.url)("date-holidays-parser") as { default: Parser }).default;
  return parserClass;
};

/** The file's shape, as far as Sesame looks at it. */
export interface HolidayData {
  version?: string;
  license?: string;
  holidays: Record<string, Record<string, unknown>>;
  names: Record<string, unknown>;
}

/** The entries kept: the countries used so far, and everything they reference. */
const kept: HolidayData = { holidays: {}, names: {} };
/** Codes asked for that the file does not have (never read again for them). */
const absent = new Set<string>();
/** Each country's main time zone (the first of its `zones`), for every country of the file. */
let mainZones: Map<string, string> | null = null;

/** Every country's data, read from date-holidays' own file: use it and let it go. */
export function readHolidayData(): HolidayData {
  const require = createRequire(import.meta.url);
  // The package's exports do not list the file itself; its package.json tells where the package is.
  const file = join(dirname(require.resolve("date-holidays/package.json")), "data", "holidays.json");
  const data = JSON.parse(readFileSync(file, "utf8")) as HolidayData;
  mainZones ??= new Map(
    Object.entries(data.holidays).flatMap(([code, country]) => {
      const zone = (country.zones as string[] | undefined)?.[0];
      return zone === undefined ? [] : [[code, zone] as const];
    }),
  );
  return data;
}

/** The top-level countries whose entries `value` borrows (`_days: "FR"` or `["DE", "states", ...]`). */
function references(value: unknown, found: Set<string>): Set<string> {
  if (value === null || typeof value !== "object") return found;
  for (const [key, inner] of Object.entries(value)) {
    if (key === "_days") {
      const first = Array.isArray(inner) ? inner[0] : inner;
      if (typeof first === "string") found.add(first);
    } else references(inner, found);
  }
  return found;
}

/**
 * Keeps the entries of these countries (codes as in the file, upper case) and what they reference.
 * Reads the file only when one of them is not kept yet, unless `all` (already read) is given.
 */
export function keepHolidayCountries(countries: Iterable<string>, all?: HolidayData): void {
  const wanted = [...countries].filter((code) => kept.holidays[code] === undefined && !absent.has(code));
  if (wanted.length === 0) return;
  const data = all ?? readHolidayData();
  if (Object.keys(kept.names).length === 0) kept.names = data.names;
  if (kept.version === undefined && data.version !== undefined) kept.version = data.version;
  for (let code = wanted.pop(); code !== undefined; code = wanted.pop()) {
    const entry = data.holidays[code];
    if (entry === undefined) absent.add(code);
    if (entry === undefined || kept.holidays[code] !== undefined) continue;
    kept.holidays[code] = entry;
    for (const other of references(entry, new Set())) wanted.push(other);
  }
}

/** The holidays of a country (and state), from the kept entries; a country not kept yet is read now. */
export function holidaysOf(country: string, state?: string): HolidaysParser {
  keepHolidayCountries([country]);
  const Holidays = parser();
  return state ? new Holidays(kept, country, state) : new Holidays(kept, country);
}

/** The country codes (and a country's state codes) of all the data, as date-holidays lists them. */
export function holidayCodes(all: HolidayData): {
  countries: Record<string, string>;
  statesOf(country: string): Record<string, string> | undefined;
} {
  const known = new (parser())(all);
  return {
    countries: known.getCountries("en") as Record<string, string>,
    statesOf: (country) => known.getStates(country, "en") as Record<string, string> | undefined,
  };
}

/** A country's main time zone as date-holidays gives it (the first of its zones); undefined if none. */
export function mainTimeZoneOf(country: string): string | undefined {
  if (mainZones === null) readHolidayData();
  return mainZones!.get(country);
}
