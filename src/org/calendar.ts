import type HolidaysParser from "date-holidays-parser";
import { DateTime } from "luxon";
import { holidaysOf } from "./holidays.js";
import { DAY_NAMES, MINUTE_MS, type Team } from "./model.js";

/**
 * Business-hour arithmetic of one team, on epoch-ms instants.
 *
 * The rules (docs/desk/organisation.md has worked examples):
 * - Open means inside one of the day's periods, [opening, closing): at 08:00 a maastricht desk is
 *   open, at 18:00 it is closed. Periods are local wall-clock times in the team's time zone, so a DST
 *   change moves them in UTC; business time is real elapsed time inside the periods (a period that
 *   spans a DST change is an hour shorter or longer that day).
 * - A public holiday of the team's holiday country (date-holidays, type "public" only, the whole local
 *   date) is closed all day.
 * - A start outside business hours counts from the next opening.
 * - A deadline that lands exactly on a closing time stays at that closing time: 4 business hours from
 *   14:00 at a desk closing at 18:00 is 18:00 the same day, not 08:00 the next morning.
 */
export interface BusinessCalendar {
  /** Whether the team is open at this instant (opening time included, closing time excluded). */
  isOpen(at: number): boolean;
  /**
   * The instant when `minutes` business minutes have passed since `start`. 0 minutes: `start` when
   * open, else the next opening. Never inside a closed period, except exactly at a closing time.
   */
  addBusinessMinutes(start: number, minutes: number): number;
  /** Business minutes between two instants (fractional when they are not on whole minutes); 0 if to <= from. */
  businessMinutesBetween(from: number, to: number): number;
  /** `at` when open, else the next instant at which the team opens. */
  nextOpening(at: number): number;
}

/** One local date of the team: its bounds and its opening periods, all as epoch-ms. */
interface Day {
  start: number;
  end: number;
  open: Array<readonly [number, number]>;
  next: string;
}

/** A calendar without any opening within this many days is refused (config validation forbids it). */
const SEARCH_LIMIT_DAYS = 3 * 366;
const DAY_CACHE_LIMIT = 5_000;

class TeamCalendar implements BusinessCalendar {
  private readonly days = new Map<string, Day>();
  private readonly holidayYears = new Map<number, Set<string>>();
  private holidaySource: HolidaysParser | null = null;

  constructor(private readonly team: Team) {}

  isOpen(at: number): boolean {
    return this.dayOf(at).open.some(([from, to]) => from <= at && at < to);
  }

  addBusinessMinutes(start: number, minutes: number): number {
    if (!Number.isFinite(minutes) || minutes < 0)
      throw new RangeError(`minutes must be >= 0, got ${minutes}`);
    let remaining = minutes * MINUTE_MS;
    let day = this.dayOf(start);
    for (let searched = 0; searched <= SEARCH_LIMIT_DAYS; ) {
      for (const [from, to] of day.open) {
        if (to <= start) continue;
        const begin = Math.max(from, start);
        // `<=`: a deadline landing exactly on the closing time stays there.
        if (remaining <= to - begin) return begin + remaining;
        remaining -= to - begin;
        searched = 0;
      }
      day = this.day(day.next);
      searched++;
    }
    throw new Error(`team ${this.team.id} has no opening within ${SEARCH_LIMIT_DAYS} days`);
  }

  businessMinutesBetween(from: number, to: number): number {
    if (to <= from) return 0;
    let total = 0;
    for (let day = this.dayOf(from); day.start < to; day = this.day(day.next)) {
      for (const [open, close] of day.open) {
        const overlap = Math.min(close, to) - Math.max(open, from);
        if (overlap > 0) total += overlap;
      }
    }
    return total / MINUTE_MS;
  }

  nextOpening(at: number): number {
    return this.addBusinessMinutes(at, 0);
  }

  private dayOf(at: number): Day {
    const date = DateTime.fromMillis(at, { zone: this.team.timeZone }).toISODate();
    if (date === null) throw new RangeError(`not an instant: ${at}`);
    return this.day(date);
  }

  private day(isoDate: string): Day {
    const cached = this.days.get(isoDate);
    if (cached !== undefined) return cached;
    const zone = this.team.timeZone;
    const local = DateTime.fromISO(isoDate, { zone });
    const nextLocal = local.plus({ days: 1 });
    const next = nextLocal.toISODate()!;
    const start = local.startOf("day").toMillis();
    const end = nextLocal.startOf("day").toMillis();
    const at = (minutes: number) =>
      minutes >= 1440
        ? end
        : DateTime.fromObject(
            {
              year: local.year,
              month: local.month,
              day: local.day,
              hour: Math.floor(minutes / 60),
              minute: minutes % 60,
            },
            { zone },
          ).toMillis();
    const periods = this.isHoliday(isoDate) ? [] : this.team.hours[DAY_NAMES[local.weekday - 1]!];
    const open = periods
      .map((period) => [at(period.from), at(period.to)] as const)
      .filter(([from, to]) => to > from);
    const day = { start, end, open, next };
    if (this.days.size >= DAY_CACHE_LIMIT) this.days.clear();
    this.days.set(isoDate, day);
    return day;
  }

  private isHoliday(isoDate: string): boolean {
    const holidays = this.team.holidays;
    if (holidays === null) return false;
    const year = Number(isoDate.slice(0, 4));
    let dates = this.holidayYears.get(year);
    if (dates === undefined) {
      this.holidaySource ??= holidaysOf(holidays.country, holidays.state);
      // Only days that are public holidays; "bank", "school", "optional" and "observance" days stay open.
      // An entry's date is its local date ("2026-04-27 00:00:00", or with an offset for holidays
      // that begin the evening before): the whole date is closed.
      dates = new Set(
        (this.holidaySource.getHolidays(year) || [])
          .filter((holiday) => holiday.type === "public")
          .map((holiday) => holiday.date.slice(0, 10)),
      );
      this.holidayYears.set(year, dates);
    }
    return dates.has(isoDate);
  }
}

const calendars = new WeakMap<Team, BusinessCalendar>();

/** The business calendar of a team; one per team object, cached. */
export function calendarOf(team: Team): BusinessCalendar {
  let calendar = calendars.get(team);
  if (calendar === undefined) {
    calendar = new TeamCalendar(team);
    calendars.set(team, calendar);
  }
  return calendar;
}

/** Public holidays (local dates, YYYY-MM-DD) of a team in a year: for the docs and the agent console. */
export function publicHolidays(team: Team, year: number): Array<{ date: string; name: string }> {
  if (team.holidays === null) return [];
  const source = holidaysOf(team.holidays.country, team.holidays.state);
  return (source.getHolidays(year, "en") || [])
    .filter((holiday) => holiday.type === "public")
    .map((holiday) => ({ date: holiday.date.slice(0, 10), name: holiday.name }));
}
