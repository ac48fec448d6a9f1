/**
 * The organisation: teams (who answers, where, when), SLA policies and customer-clock limits.
 * Types and pure helpers only; loading and validation are in config.ts, routing in routing.ts,
 * business-hour arithmetic in calendar.ts, deadlines in sla.ts.
 */

export type Tier = 1 | 2 | 3;

export const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
export type DayName = (typeof DAY_NAMES)[number];

/** One opening period of a day, in minutes since local midnight: [from, to), 0 <= from < to <= 1440. */
export interface OpeningPeriod {
  from: number;
  to: number;
}

/**
 * Opening hours of a week in the team's time zone: for each day, its periods in order, not
 * overlapping. A day without periods is closed. Times are local wall-clock times, so "08:00" is 08:00
 * in summer and in winter.
 */
export type WeeklyHours = Record<DayName, OpeningPeriod[]>;

export interface Team {
  /** Short stable id (lower case), stored on cases: `maastricht`. */
  id: string;
  /** Public display name: "Dutch-speaking support (Maastricht)". */
  name: string;
  tier: Tier;
  /**
   * Languages the team answers in (ISO 639-1, lower case). "other" marks the tier-1 fallback team
   * for every language no other tier-1 team speaks.
   */
  languages: string[];
  /** ISO 3166 alpha-2 countries the team serves (upper case), or "any". */
  countries: string[] | "any";
  /** IANA time zone of its business hours. */
  timeZone: string;
  hours: WeeklyHours;
  /** Public holidays (date-holidays, type "public" only) on which it is closed all day; null: none. */
  holidays: { country: string; state?: string } | null;
  /** The team's own mailbox: inbound mail to it (also local+anything@domain) lands in its queue. */
  email: string;
  phones: Array<{ number: string; label?: string }>;
}

/**
 * A duration counted in a team's business time: `days` business days (each the length of the team's
 * working day, see workingDayMinutes) plus `minutes` business minutes. "3d" = {days: 3, minutes: 0},
 * "4h" = {days: 0, minutes: 240}, "1d2h30m" = {days: 1, minutes: 150}.
 */
export interface BusinessDuration {
  days: number;
  minutes: number;
}

/** The targets of one tier and priority; an absent target is not tracked at that tier. */
export interface SlaPolicy {
  tier: Tier;
  /** Case priority it applies to; "normal" is the fallback for priorities without their own policy. */
  priority: string;
  firstResponse?: BusinessDuration;
  nextUpdate?: BusinessDuration;
  resolution?: BusinessDuration;
}

export interface Organisation {
  teams: Team[];
  sla: SlaPolicy[];
  /**
   * Wall-clock limits of the customer clock (time since the first attempt, never paused), ascending:
   * passing each one raises the case a tier whatever its per-tier clocks say. Demo: [3 d, 7 d].
   */
  customerClockLimitsMs: number[];
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/**
 * Length of the team's working day in business minutes: the longest opening day of its week
 * (maastricht 08:00-18:00: 600; casablanca 08:00-20:00: 720; belux and corp 09:00-17:00: 480).
 * A business day ("d" in SLA durations) is this many business minutes.
 */
export function workingDayMinutes(team: Pick<Team, "hours">): number {
  let longest = 0;
  for (const day of DAY_NAMES) {
    const total = team.hours[day].reduce((sum, period) => sum + period.to - period.from, 0);
    longest = Math.max(longest, total);
  }
  return longest;
}

/** A business duration in business minutes of this team. */
export function businessMinutesOf(duration: BusinessDuration, team: Pick<Team, "hours">): number {
  return duration.days * workingDayMinutes(team) + duration.minutes;
}

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/;

/** "3d", "4h", "30m", "1d2h30m" -> {days, minutes}; null when not of that form or zero. */
export function parseDuration(text: string): BusinessDuration | null {
  const match = DURATION.exec(text.trim().replace(/\s+/g, ""));
  if (match === null || text.trim() === "") return null;
  const [, days = "0", hours = "0", minutes = "0"] = match;
  const result = { days: Number(days), minutes: Number(hours) * 60 + Number(minutes) };
  return result.days === 0 && result.minutes === 0 ? null : result;
}

/** "4h" for the files, docs and pages: the inverse of parseDuration. */
export function formatDuration(duration: BusinessDuration): string {
  const hours = Math.floor(duration.minutes / 60);
  const minutes = duration.minutes % 60;
  const text = `${duration.days ? `${duration.days}d` : ""}${hours ? `${hours}h` : ""}${minutes ? `${minutes}m` : ""}`;
  return text === "" ? "0m" : text;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** 480 -> "08:00"; 1440 -> "24:00". */
export function formatClock(minutes: number): string {
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/**
 * Opening hours as one line, days with the same periods grouped: "Mon-Fri 08:00-18:00",
 * "Mon-Fri 09:00-12:00, 13:00-17:00; Sat 10:00-14:00". Closed all week: "closed".
 */
export function describeHours(hours: WeeklyHours, dayName: (day: DayName) => string = (day) => day): string {
  const periodsText = (day: DayName) =>
    hours[day].map((period) => `${formatClock(period.from)}-${formatClock(period.to)}`).join(", ");
  const groups: Array<{ first: number; last: number; text: string }> = [];
  DAY_NAMES.forEach((day, index) => {
    const text = periodsText(day);
    const previous = groups.at(-1);
    if (previous !== undefined && previous.text === text && previous.last === index - 1)
      previous.last = index;
    else groups.push({ first: index, last: index, text });
  });
  const open = groups.filter((group) => group.text !== "");
  if (open.length === 0) return "closed";
  return open
    .map((group) => {
      const days =
        group.first === group.last
          ? dayName(DAY_NAMES[group.first]!)
          : `${dayName(DAY_NAMES[group.first]!)}-${dayName(DAY_NAMES[group.last]!)}`;
      return `${days} ${group.text}`;
    })
    .join("; ");
}

/** The base language of a BCP 47 tag, lower case: "fr-BE" -> "fr". */
export function baseLanguage(tag: string): string {
  return (tag.trim().split(/[-_]/)[0] ?? "").toLowerCase();
}
