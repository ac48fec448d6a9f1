import { sql } from "kysely";
import type { Tx } from "../db/database.js";
import { DAY, HOUR } from "../platform/clock.js";
import type { TimerService } from "./service.js";

/**
 * One housekeeping job: every `everyMs`, deletes what is older than `retainMs` (at most `limit` rows
 * a run; a run that hit the limit runs again on the next poll). A feature with a growing table adds
 * its own job to the list given to registerHousekeeping (see features.ts).
 */
export interface HousekeepingJob {
  name: string;
  everyMs: number;
  retainMs: number;
  /** Deletes up to about `limit` rows past `cutoff` (= now - retainMs); true when it stopped at the limit. */
  purge(tx: Tx, cutoff: number, now: number, limit: number): Promise<boolean>;
}

export interface Retention {
  everyMs: number;
  retainMs: number;
}

/** The built-in jobs; their settings are SESAME_RETAIN_<NAME>_MS and SESAME_HOUSEKEEPING_<NAME>_EVERY_MS. */
export const HOUSEKEEPING_DEFAULTS = {
  /** Recoveries (finished or abandoned) started longer ago; their codes go with them. */
  recoveries: { retainMs: 90 * DAY, minRetainMs: 90 * DAY },
  /** One-time codes (spent, voided, expired, decoys) expired longer ago. */
  codes: { retainMs: 7 * DAY, minRetainMs: DAY },
  /** Outbox rows sent, given up or voided (decoys) created longer ago; pending ones stay. */
  outbox: { retainMs: 30 * DAY, minRetainMs: DAY },
  /** Audit chains of addresses no account had, whose last entry is older (the whole chain goes). */
  address_audit: { retainMs: 365 * DAY, minRetainMs: 30 * DAY },
  /** Sessions expired or revoked longer ago. */
  sessions: { retainMs: 30 * DAY, minRetainMs: 0 },
  /** Sign-in throttle rows untouched for longer and not locking now (the lock level starts again). */
  signin_throttle: { retainMs: 30 * DAY, minRetainMs: DAY },
  /** Cap counters whose window started longer ago (the longest cap window is a day). */
  cap_counters: { retainMs: DAY, minRetainMs: DAY },
  /** Cases resolved longer ago, with their contacts, events and surveys (deleted with the case). */
  cases: { retainMs: 730 * DAY, minRetainMs: 30 * DAY },
} as const;

export type HousekeepingName = keyof typeof HOUSEKEEPING_DEFAULTS;
export type HousekeepingSettings = Record<HousekeepingName, Retention>;

export const DEFAULT_HOUSEKEEPING_EVERY_MS = HOUR;
/** Rows deleted per run of a job: short transactions; a backlog is worked off run after run. */
export const HOUSEKEEPING_BATCH = 2_000;

/** True when a delete of at most `limit` rows took them all: there may be more. */
const full = (result: Array<{ numDeletedRows: bigint }>, limit: number) =>
  result.reduce((sum, r) => sum + Number(r.numDeletedRows), 0) >= limit;

/** What each built-in job deletes. */
const purges: Record<HousekeepingName, HousekeepingJob["purge"]> = {
  async recoveries(tx, cutoff, _now, limit) {
    return full(
      await tx
        .deleteFrom("recoveries")
        .where("id", "in", (eb) =>
          eb.selectFrom("recoveries").select("id").where("started_at", "<", cutoff).limit(limit),
        )
        .execute(),
      limit,
    );
  },
  async codes(tx, cutoff, _now, limit) {
    return full(
      await tx
        .deleteFrom("recovery_codes")
        .where("id", "in", (eb) =>
          eb.selectFrom("recovery_codes").select("id").where("expires_at", "<", cutoff).limit(limit),
        )
        .execute(),
      limit,
    );
  },
  async outbox(tx, cutoff, _now, limit) {
    return full(
      await tx
        .deleteFrom("outbox")
        .where("id", "in", (eb) =>
          eb
            .selectFrom("outbox")
            .select("id")
            .where("status", "in", ["sent", "failed", "voided"])
            .where("created_at", "<", cutoff)
            .limit(limit),
        )
        .execute(),
      limit,
    );
  },
  async address_audit(tx, cutoff, _now, limit) {
    // Whole chains only: deleting the old end of a chain would break its hashes. "address:" streams
    // are the chains of addresses that had no account (an account's entries go to its own chain).
    const streams = await tx
      .selectFrom("audit_log")
      .select("stream")
      .where("stream", ">=", "address:")
      .where("stream", "<", "address;")
      .groupBy("stream")
      .having((eb) => eb.fn.max("at"), "<", cutoff)
      .limit(Math.max(1, Math.floor(limit / 20)))
      .execute();
    if (streams.length === 0) return false;
    await tx
      .deleteFrom("audit_log")
      .where(
        "stream",
        "in",
        streams.map((s) => s.stream),
      )
      .execute();
    return streams.length >= Math.max(1, Math.floor(limit / 20));
  },
  async sessions(tx, cutoff, _now, limit) {
    return full(
      await tx
        .deleteFrom("sessions")
        .where("id", "in", (eb) =>
          eb
            .selectFrom("sessions")
            .select("id")
            .where((w) => w.or([w("expires_at", "<", cutoff), w("revoked_at", "<", cutoff)]))
            .limit(limit),
        )
        .execute(),
      limit,
    );
  },
  async signin_throttle(tx, cutoff, now, limit) {
    return full(
      await tx
        .deleteFrom("signin_throttle")
        .where("key_hash", "in", (eb) =>
          eb
            .selectFrom("signin_throttle")
            .select("key_hash")
            .where("updated_at", "<", cutoff)
            .where((w) => w.or([w("locked_until", "is", null), w("locked_until", "<", now)]))
            .limit(limit),
        )
        .execute(),
      limit,
    );
  },
  async cap_counters(tx, cutoff, _now, limit) {
    return full(
      await tx
        .deleteFrom("cap_counters")
        .where("key", "in", (eb) =>
          eb.selectFrom("cap_counters").select("key").where("window_start", "<=", cutoff).limit(limit),
        )
        .execute(),
      limit,
    );
  },
  async cases(tx, cutoff, _now, limit) {
    const ids = (
      await tx
        .selectFrom("cases")
        .select("id")
        .where("status", "=", "resolved")
        .where(sql<number>`coalesce(resolved_at, updated_at)`, "<", cutoff)
        .limit(Math.max(1, Math.floor(limit / 10)))
        .execute()
    ).map((row) => row.id);
    if (ids.length === 0) return false;
    // Their timers too (none should be left on a resolved case), then the case: contacts, events
    // and surveys cascade, recoveries keep their row without the case.
    await tx.deleteFrom("timers").where("subject", "in", ids).execute();
    await tx.deleteFrom("cases").where("id", "in", ids).execute();
    return ids.length >= Math.max(1, Math.floor(limit / 10));
  },
};

/** The built-in jobs with their settings. */
export function builtInHousekeeping(settings: HousekeepingSettings): HousekeepingJob[] {
  return (Object.keys(purges) as HousekeepingName[]).map((name) => ({
    name,
    ...settings[name],
    purge: purges[name],
  }));
}

/** Each job becomes a recurring timer of kind `housekeeping:<name>`. */
export function registerHousekeeping(
  timers: TimerService,
  jobs: HousekeepingJob[],
  limit = HOUSEKEEPING_BATCH,
) {
  for (const job of jobs)
    timers.recurring(`housekeeping:${job.name}`, job.everyMs, (tx, now) =>
      job.purge(tx, now - job.retainMs, now, limit),
    );
}
