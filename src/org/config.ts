import { readFileSync } from "node:fs";
import { Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { IANAZone } from "luxon";
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ConfigError } from "../config.js";
import { type HolidayData, holidayCodes, keepHolidayCountries, readHolidayData } from "./holidays.js";
import {
  type BusinessDuration,
  DAY_MS,
  DAY_NAMES,
  type DayName,
  HOUR_MS,
  MINUTE_MS,
  type OpeningPeriod,
  type Organisation,
  parseDuration,
  type SlaPolicy,
  type Team,
  type Tier,
  type WeeklyHours,
} from "./model.js";

/**
 * The organisation file named by SESAME_CONFIG (YAML or JSON; JSON is read as YAML, so both get line
 * numbers), validated at boot. Every error names the file, the key path and its line:
 *   SESAME_CONFIG /etc/sesame/org.yaml: teams[2].timeZone (line 14): "Europe/Nowhere" is not a time zone
 * The file format is documented in docs/desk/organisation.md; examples/organisation.yaml is the demo.
 */

// ---------------------------------------------------------------------------------------------------
// The demo organisation (SESAME_CONFIG unset); examples/organisation.yaml holds exactly the same.

const weekdays = (from: string, to: string, days: readonly DayName[]): WeeklyHours => {
  const hours = Object.fromEntries(DAY_NAMES.map((day) => [day, [] as OpeningPeriod[]])) as WeeklyHours;
  for (const day of days) hours[day] = [{ from: clockMinutes(from)!, to: clockMinutes(to)! }];
  return hours;
};
const MON_FRI = ["Mon", "Tue", "Wed", "Thu", "Fri"] as const;
const MON_SAT = [...MON_FRI, "Sat"] as const;

export const demoOrganisation: Organisation = {
  teams: [
    {
      id: "maastricht",
      name: "Dutch-speaking support (Maastricht)",
      tier: 1,
      languages: ["nl"],
      countries: "any",
      timeZone: "Europe/Amsterdam",
      hours: weekdays("08:00", "18:00", MON_FRI),
      holidays: { country: "NL" },
      email: "maastricht@support.example",
      phones: [{ number: "+31 43 000 0000" }],
    },
    {
      id: "casablanca",
      name: "French-speaking support (Casablanca)",
      tier: 1,
      languages: ["fr"],
      countries: "any",
      timeZone: "Africa/Casablanca",
      hours: weekdays("08:00", "20:00", MON_SAT),
      holidays: null,
      email: "casablanca@support.example",
      phones: [{ number: "+212 522 000 000" }],
    },
    {
      id: "dublin",
      name: "Support (Dublin)",
      tier: 1,
      languages: ["en", "de", "other"],
      countries: "any",
      timeZone: "Europe/Dublin",
      hours: weekdays("08:00", "18:00", MON_FRI),
      holidays: { country: "IE" },
      email: "dublin@support.example",
      phones: [{ number: "+353 1 000 0000" }],
    },
    {
      id: "belux",
      name: "Belgium-Luxembourg team",
      tier: 2,
      languages: ["fr", "nl", "de", "en"],
      countries: ["BE", "LU"],
      timeZone: "Europe/Brussels",
      hours: weekdays("09:00", "17:00", MON_FRI),
      holidays: { country: "BE" },
      email: "belux@support.example",
      phones: [{ number: "+32 2 000 00 00" }],
    },
    {
      id: "corp",
      name: "Corporate support",
      tier: 3,
      languages: ["en"],
      countries: "any",
      timeZone: "America/Los_Angeles",
      hours: weekdays("09:00", "17:00", MON_FRI),
      holidays: { country: "US" },
      email: "corp@support.example",
      phones: [],
    },
  ],
  sla: [
    {
      tier: 1,
      priority: "normal",
      firstResponse: { days: 0, minutes: 240 },
      nextUpdate: { days: 0, minutes: 480 },
      resolution: { days: 3, minutes: 0 },
    },
    {
      tier: 2,
      priority: "normal",
      firstResponse: { days: 0, minutes: 480 },
      nextUpdate: { days: 0, minutes: 480 },
    },
    { tier: 3, priority: "normal", firstResponse: { days: 0, minutes: 480 } },
  ],
  customerClockLimitsMs: [3 * DAY_MS, 7 * DAY_MS],
};

// ---------------------------------------------------------------------------------------------------
// Loading

/** The organisation of SESAME_CONFIG's file; undefined or "" -> the demo organisation. */
export function loadOrganisation(path: string | undefined): Organisation {
  if (path === undefined || path === "") {
    keepHolidayCountries(holidayCountriesOf(demoOrganisation));
    return demoOrganisation;
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(`SESAME_CONFIG ${path}: cannot read the file (${code})`);
  }
  return parseOrganisation(text, `SESAME_CONFIG ${path}`);
}

/** Parses and validates an organisation file's text; errors start with `source`. */
export function parseOrganisation(text: string, source = "SESAME_CONFIG"): Organisation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new ConfigError(
      `${source}: not valid YAML or JSON (line ${line}): ${first.message.split("\n")[0]}`,
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) throw new ConfigError(`${source}: the file is empty`);

  const problems: Problem[] = [];
  const report = (path: Path, message: string) => problems.push({ path, message });
  for (const error of Value.Errors(FileSchema, raw)) {
    const path = pointerToPath(error.path);
    if (problems.some((problem) => samePath(problem.path, path))) continue;
    report(path, describeSchemaError(error.message, error.value));
  }
  // Every country's holiday data, read only if a team names holidays: to check the codes, then to
  // keep the teams' countries (holidays.ts); the rest is garbage once this function returns.
  let allHolidays: HolidayData | null = null;
  let codes: HolidayCodes | null = null;
  const holidayData = () => {
    allHolidays ??= readHolidayData();
    return allHolidays;
  };
  const knownCodes = () => {
    codes ??= holidayCodes(holidayData());
    return codes;
  };
  const organisation = problems.length === 0 ? build(raw as FileOrganisation, report, knownCodes) : null;
  if (problems.length > 0 || organisation === null) {
    // In file order, so the first line printed is the first place to fix.
    const lines = problems
      .map((problem) => ({ ...problem, line: lineOf(doc.contents, lineCounter, problem.path) }))
      .sort((a, b) => a.line - b.line)
      .slice(0, 10)
      .map((problem) => `${formatPath(problem.path)} (line ${problem.line}): ${problem.message}`);
    const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : "";
    throw new ConfigError(`${source}: ${lines.join(`\n  ${source}: `)}${more}`);
  }
  const countries = holidayCountriesOf(organisation);
  if (countries.length > 0) keepHolidayCountries(countries, holidayData());
  return organisation;
}

type HolidayCodes = ReturnType<typeof holidayCodes>;

const holidayCountriesOf = (organisation: Organisation): string[] =>
  organisation.teams.flatMap((team) => (team.holidays === null ? [] : [team.holidays.country]));

// ---------------------------------------------------------------------------------------------------
// The file's shape (structure only; meaning is checked in build())

const Duration = Type.String({ description: 'business time: "4h", "30m", "3d" (business days), "1d4h"' });

const FileTeam = Type.Object(
  {
    id: Type.String({ pattern: "^[a-z][a-z0-9_-]*$" }),
    name: Type.String({ minLength: 1 }),
    tier: Type.Integer({ minimum: 1, maximum: 3 }),
    languages: Type.Array(Type.String(), { minItems: 1 }),
    countries: Type.Unknown(),
    timeZone: Type.String(),
    hours: Type.Record(Type.String(), Type.String()),
    holidays: Type.Optional(Type.Unknown()),
    email: Type.String(),
    phones: Type.Optional(
      Type.Array(
        Type.Object(
          { number: Type.String(), label: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

const FileSla = Type.Object(
  {
    tier: Type.Integer({ minimum: 1, maximum: 3 }),
    priority: Type.Optional(Type.String({ minLength: 1 })),
    firstResponse: Type.Optional(Duration),
    nextUpdate: Type.Optional(Duration),
    resolution: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

const FileSchema = Type.Object(
  {
    teams: Type.Array(FileTeam, { minItems: 1 }),
    sla: Type.Optional(Type.Array(FileSla)),
    customerClockLimits: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

interface FileTeamShape {
  id: string;
  name: string;
  tier: number;
  languages: string[];
  countries: unknown;
  timeZone: string;
  hours: Record<string, string>;
  holidays?: unknown;
  email: string;
  phones?: Array<{ number: string; label?: string }>;
}
interface FileOrganisation {
  teams: FileTeamShape[];
  sla?: Array<{
    tier: number;
    priority?: string;
    firstResponse?: string;
    nextUpdate?: string;
    resolution?: string;
  }>;
  customerClockLimits?: string[];
}

const describeSchemaError = (message: string, value: unknown): string => {
  if (message === "Unexpected property") return "unknown key";
  if (message === "Expected required property") return "is required";
  return `${message}${value === undefined ? "" : `, got ${JSON.stringify(value)}`}`;
};

// ---------------------------------------------------------------------------------------------------
// Meaning

type Path = Array<string | number>;
interface Problem {
  path: Path;
  message: string;
}
type Report = (path: Path, message: string) => void;

const regionNames = new Intl.DisplayNames(["en"], { type: "region" });
const isCountry = (code: string): boolean =>
  /^[A-Z]{2}$/.test(code) && code !== "ZZ" && regionNames.of(code) !== code;

/** "08:00" -> 480, "24:00" -> 1440; null when not a time of day. */
function clockMinutes(text: string): number | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (match === null) return null;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return Number(match[2]) < 60 && minutes <= 1440 ? minutes : null;
}

function parseDays(key: string): DayName[] | null {
  const index = (name: string) =>
    DAY_NAMES.findIndex((day) => day.toLowerCase() === name.trim().toLowerCase());
  const [first, last, ...rest] = key.split("-");
  if (first === undefined || rest.length > 0) return null;
  const from = index(first);
  const to = last === undefined ? from : index(last);
  if (from < 0 || to < 0 || to < from) return null;
  return DAY_NAMES.slice(from, to + 1);
}

function parseHours(hours: Record<string, string>, path: Path, report: Report): WeeklyHours {
  const week = Object.fromEntries(DAY_NAMES.map((day) => [day, [] as OpeningPeriod[]])) as WeeklyHours;
  const seen = new Set<DayName>();
  for (const [key, value] of Object.entries(hours)) {
    const days = parseDays(key);
    if (days === null) {
      report(
        [...path, key],
        `"${key}" is not a day or a day range such as Mon-Fri (days: ${DAY_NAMES.join(", ")})`,
      );
      continue;
    }
    const twice = days.find((day) => seen.has(day));
    if (twice !== undefined) report([...path, key], `${twice} is already given by another key`);
    for (const day of days) seen.add(day);
    if (value.trim().toLowerCase() === "closed") continue;
    const periods: OpeningPeriod[] = [];
    for (const part of value.split(",")) {
      const [fromText = "", toText = "", ...extra] = part.split("-");
      const from = clockMinutes(fromText);
      const to = clockMinutes(toText);
      if (from === null || to === null || extra.length > 0) {
        report([...path, key], `"${part.trim()}" is not an opening period such as "08:00-18:00"`);
        continue;
      }
      if (to <= from) {
        report(
          [...path, key],
          `"${part.trim()}" closes before it opens (a period ends the day it starts; split overnight hours over two days, e.g. 18:00-24:00 and 00:00-08:00)`,
        );
        continue;
      }
      const previous = periods.at(-1);
      if (previous !== undefined && from < previous.to) {
        report(
          [...path, key],
          `"${part.trim()}" overlaps or precedes the period before it (list periods in order)`,
        );
        continue;
      }
      periods.push({ from, to });
    }
    for (const day of days) week[day] = periods.map((period) => ({ ...period }));
  }
  if (DAY_NAMES.every((day) => week[day].length === 0))
    report(path, "the team is open on no day of the week");
  return week;
}

function parseHolidays(
  value: unknown,
  path: Path,
  report: Report,
  knownCodes: () => HolidayCodes,
): Team["holidays"] {
  if (value === undefined || value === null || value === "none") return null;
  let country: unknown;
  let state: unknown;
  if (typeof value === "string") country = value;
  else if (typeof value === "object" && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object))
      if (key !== "country" && key !== "state") report([...path, key], "unknown key (country, state)");
    ({ country, state } = object);
  } else {
    report(path, 'must be a country code (NL), {country: US, state: CA} or "none"');
    return null;
  }
  // Checked as date-holidays checks them: its parser on all of its data.
  const known = knownCodes();
  if (typeof country !== "string" || known.countries[country.toUpperCase()] === undefined) {
    report(
      typeof value === "string" ? path : [...path, "country"],
      `${JSON.stringify(country)} is not a country known to date-holidays`,
    );
    return null;
  }
  const code = country.toUpperCase();
  if (state === undefined || state === null) return { country: code };
  const states = known.statesOf(code) ?? {};
  if (typeof state !== "string" || states[state.toUpperCase()] === undefined) {
    report(
      [...path, "state"],
      `${JSON.stringify(state)} is not a state or region of ${code} known to date-holidays`,
    );
    return null;
  }
  return { country: code, state: state.toUpperCase() };
}

const EMAIL = /^[^\s@<>+]+@[^\s@<>]+\.[^\s@<>]+$/;

function build(file: FileOrganisation, report: Report, knownCodes: () => HolidayCodes): Organisation {
  const teams: Team[] = [];
  const ids = new Map<string, number>();
  const emails = new Map<string, number>();
  file.teams.forEach((raw, index) => {
    const path: Path = ["teams", index];
    const earlier = ids.get(raw.id);
    if (earlier !== undefined) report([...path, "id"], `"${raw.id}" is already the id of teams[${earlier}]`);
    ids.set(raw.id, index);

    const tier = raw.tier as Tier;
    const languages = raw.languages.map((language) => language.trim().toLowerCase());
    languages.forEach((language, at) => {
      if (!/^[a-z]{2,3}$/.test(language) && language !== "other")
        report(
          [...path, "languages", at],
          `"${raw.languages[at]}" is not a language code such as nl, or "other"`,
        );
      if (language === "other" && tier !== 1)
        report(
          [...path, "languages", at],
          '"other" (the fallback for all other languages) is for a tier-1 team',
        );
    });

    let countries: Team["countries"] = "any";
    if (raw.countries === "any") countries = "any";
    else if (Array.isArray(raw.countries) && raw.countries.length > 0) {
      countries = raw.countries.map((country, at) => {
        const code = typeof country === "string" ? country.trim().toUpperCase() : "";
        if (!isCountry(code))
          report(
            [...path, "countries", at],
            `${JSON.stringify(country)} is not an ISO 3166 country code such as BE`,
          );
        return code;
      });
    } else report([...path, "countries"], 'must be "any" or a list of country codes such as [BE, LU]');
    if (tier === 2 && countries === "any")
      report([...path, "countries"], 'a tier-2 team is a country team: list its countries instead of "any"');

    if (!IANAZone.isValidZone(raw.timeZone))
      report(
        [...path, "timeZone"],
        `"${raw.timeZone}" is not a time zone (IANA name such as Europe/Brussels)`,
      );

    const email = raw.email.trim();
    if (!EMAIL.test(email))
      report([...path, "email"], `"${raw.email}" is not an email address such as team@example.org`);
    const sameEmail = emails.get(email.toLowerCase());
    if (sameEmail !== undefined)
      report([...path, "email"], `"${email}" is already the address of teams[${sameEmail}]`);
    emails.set(email.toLowerCase(), index);

    const phones = (raw.phones ?? []).map((phone, at) => {
      const digits = phone.number.replace(/[\s().-]/g, "");
      if (!/^\+[1-9]\d{6,14}$/.test(digits))
        report(
          [...path, "phones", at, "number"],
          `"${phone.number}" is not an international number such as +32 2 000 00 00`,
        );
      return phone.label === undefined
        ? { number: phone.number.trim() }
        : { number: phone.number.trim(), label: phone.label };
    });

    teams.push({
      id: raw.id,
      name: raw.name.trim(),
      tier,
      languages,
      countries,
      timeZone: raw.timeZone,
      hours: parseHours(raw.hours, [...path, "hours"], report),
      holidays: parseHolidays(raw.holidays, [...path, "holidays"], report, knownCodes),
      email,
      phones,
    });
  });

  checkRouting(teams, report);

  const sla: SlaPolicy[] = [];
  (file.sla ?? []).forEach((raw, index) => {
    const path: Path = ["sla", index];
    const priority = raw.priority?.trim() ?? "normal";
    const policy: SlaPolicy = { tier: raw.tier as Tier, priority };
    for (const key of ["firstResponse", "nextUpdate", "resolution"] as const) {
      const text = raw[key];
      if (text === undefined) continue;
      const duration: BusinessDuration | null = parseDuration(text);
      if (duration === null)
        report([...path, key], `"${text}" is not a duration such as 4h, 30m, 3d (business days) or 1d4h`);
      else policy[key] = duration;
    }
    if (sla.some((other) => other.tier === policy.tier && other.priority === priority))
      report([...path, "priority"], `tier ${policy.tier} already has a "${priority}" policy`);
    sla.push(policy);
  });
  for (const tier of [1, 2, 3] as const) {
    const ofTier = sla.filter((policy) => policy.tier === tier);
    if (ofTier.length > 0 && !ofTier.some((policy) => policy.priority === "normal"))
      report(["sla"], `tier ${tier} has policies but no "normal" one (the fallback for other priorities)`);
  }

  const limitsText = file.customerClockLimits ?? ["3d", "7d"];
  const customerClockLimitsMs: number[] = [];
  limitsText.forEach((text, index) => {
    const duration = parseDuration(text);
    if (duration === null) {
      report(
        ["customerClockLimits", index],
        `"${text}" is not a duration such as 3d (calendar days of 24 h), 72h`,
      );
      return;
    }
    const ms =
      duration.days * DAY_MS +
      Math.floor(duration.minutes / 60) * HOUR_MS +
      (duration.minutes % 60) * MINUTE_MS;
    const previous = customerClockLimitsMs.at(-1);
    if (previous !== undefined && ms <= previous)
      report(["customerClockLimits", index], `"${text}" must be longer than the limit before it`);
    customerClockLimitsMs.push(ms);
  });

  return { teams, sla, customerClockLimitsMs };
}

/** The guarantees routing.ts relies on: one fallback, one top, nothing claimed twice. */
function checkRouting(teams: Team[], report: Report): void {
  const top = teams.map((team, index) => ({ team, index })).filter(({ team }) => team.tier === 3);
  if (top.length === 0)
    report(
      ["teams"],
      "no tier-3 team: escalations from tier 2, and tier 2 of countries without a country team, need one",
    );
  for (const extra of top.slice(1))
    report(["teams", extra.index, "tier"], `a second tier-3 team ("${top[0]!.team.id}" is already tier 3)`);

  if (!teams.some((team) => team.tier === 1 && team.countries === "any" && team.languages.includes("other")))
    report(
      ["teams"],
      'no fallback team: one tier-1 team needs languages including "other" and countries "any", for everyone no other tier-1 team speaks to',
    );

  // Same tier, same country scope ("any", or an overlapping list), same language: which one would win?
  const claims = new Map<string, number>();
  teams.forEach((team, index) => {
    if (team.tier === 3) return;
    const scopes = team.countries === "any" ? ["any"] : team.countries;
    const keys =
      team.tier === 1
        ? team.languages.flatMap((language) => scopes.map((scope) => `1/${scope}/${language}`))
        : scopes.map((scope) => `2/${scope}`);
    for (const key of keys) {
      const other = claims.get(key);
      if (other !== undefined && other !== index) {
        const [, scope, language] = key.split("/");
        const what =
          team.tier === 1
            ? `language "${language}" for ${scope === "any" ? "any country" : scope}`
            : `country ${scope}`;
        report(
          ["teams", index],
          `${what} is already served by teams[${other}] ("${teams[other]!.id}") at tier ${team.tier}`,
        );
      } else claims.set(key, index);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Paths and lines

const pointerToPath = (pointer: string): Path =>
  pointer
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));

const samePath = (a: Path, b: Path) =>
  a.length === b.length && a.every((segment, index) => segment === b[index]);

/** ["teams", 2, "timeZone"] -> "teams[2].timeZone"; [] -> "(top level)". */
export function formatPath(path: Path): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join("");
}

/** The line of the key (or item) at `path`; where it does not exist, the line of its nearest parent. */
function lineOf(root: Node | null, lineCounter: LineCounter, path: Path): number {
  let node: unknown = root;
  let offset = (root as Node | null)?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (item === undefined) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return lineCounter.linePos(offset).line;
}
