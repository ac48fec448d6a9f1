import type { FastifyBaseLogger } from "fastify";
import { sql } from "kysely";
import { type Db, type Dialect, type Executor, isUnavailableError, type Tx } from "../db/database.js";
import type { Clock } from "../platform/clock.js";
import { ClockWorker } from "../platform/worker.js";
import * as store from "./store.js";

/** A timer as its handler sees it. */
export interface FiringTimer {
  id: string;
  kind: string;
  subject: string;
  dueAt: number;
  payload: unknown;
  /** 1 on the first try; more after failed handlers or a node that died while firing. */
  attempt: number;
}

/**
 * The order timers of one batch fire in. RETURNING keeps none: it followed the ids, so the order the
 * timers were set in, and a case's customer clock set first fired before an earlier deadline.
 */
const soonestFirst = (a: store.TimerRow, b: store.TimerRow) =>
  Number(a.due_at) - Number(b.due_at) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);

/** A timer to set: what fires (`kind`) about what (`subject`), when, with what. */
export interface TimerToSchedule {
  kind: string;
  subject: string;
  dueAt: number;
  payload?: unknown;
}

/**
 * Runs inside the transaction that removes the timer: its effects and the removal commit together.
 * Throwing keeps the timer; it is retried later with backoff.
 */
export type TimerHandler = (tx: Tx, timer: FiringTimer, now: number) => Promise<void>;

/**
 * Fires many timers of one kind at once (same transaction rules as TimerHandler): for kinds that
 * come due in crowds, one statement for the lot instead of one per timer.
 */
export type TimerBatchHandler = (tx: Tx, timers: FiringTimer[], now: number) => Promise<void>;

/** A recurring job (housekeeping): true when it stopped at its batch limit and has more to do at once. */
export type RecurringHandler = (tx: Tx, now: number) => Promise<boolean | undefined>;

export interface TimerSettings {
  /** Poll for timers that came due (SESAME_TIMER_POLL_MS). */
  pollMs: number;
  /** Ceiling of the backoff after failures, of the worker and of one timer (SESAME_TIMER_MAX_BACKOFF_MS). */
  maxBackoffMs: number;
  /** How long a claim holds: a node that died while firing leaves its timers for that long (SESAME_TIMER_LEASE_MS). */
  leaseMs: number;
  /** Timers claimed and fired per transaction (SESAME_TIMER_BATCH). */
  batchSize: number;
}

export const defaultTimerSettings: TimerSettings = {
  pollMs: 1_000,
  maxBackoffMs: 600_000,
  leaseMs: 60_000,
  batchSize: 500,
};

/** The subject of every recurring job's timer (its kind names the job). */
export const RECURRING_SUBJECT = "recurring";

class NoHandlerError extends Error {
  constructor(kind: string) {
    super(`no handler registered for timer kind "${kind}"`);
    this.name = "NoHandlerError";
  }
}

/**
 * Durable timers: set, moved and cancelled in the caller's transaction; fired once, by whichever
 * node claims them first, at or soon after their instant (on the worker's poll, or when woken).
 */
export class TimerService {
  readonly worker: ClockWorker;
  private readonly handlers = new Map<string, TimerBatchHandler>();
  private readonly recurringJobs = new Map<string, number>();
  /** The recurring jobs' timers exist (checked once per process, and after a new job). */
  private recurringSet = false;
  readonly settings: TimerSettings;

  constructor(
    private readonly deps: { db: Db; dialect: Dialect; clock: Clock; log: FastifyBaseLogger },
    settings: Partial<TimerSettings> = {},
  ) {
    this.settings = { ...defaultTimerSettings, ...settings };
    this.worker = new ClockWorker({
      name: "timers",
      clock: deps.clock,
      log: deps.log,
      pollMs: this.settings.pollMs,
      maxBackoffMs: this.settings.maxBackoffMs,
      runDue: async (now) => void (await this.runDue(now)),
    });
  }

  /** Registers what fires for `kind` (at build time, before the worker starts). */
  on(kind: string, handler: TimerHandler): void {
    this.onBatch(kind, async (tx, timers, now) => {
      for (const timer of timers) await handler(tx, timer, now);
    });
  }

  /** Registers what fires for `kind`, called once per batch with all its timers due in the batch. */
  onBatch(kind: string, handler: TimerBatchHandler): void {
    if (this.handlers.has(kind)) throw new Error(`timer kind "${kind}" already has a handler`);
    this.handlers.set(kind, handler);
  }

  /** Sets the (kind, subject) timer to `dueAt`, or moves it there; commits with `tx`. */
  schedule(tx: Executor, kind: string, subject: string, dueAt: number, payload?: unknown): Promise<void> {
    return this.scheduleAll(tx, [{ kind, subject, dueAt, payload }]);
  }

  /** Sets several timers at once (of one kind and subject, the last wins); commits with `tx`. */
  async scheduleAll(tx: Executor, timers: TimerToSchedule[]): Promise<void> {
    const now = this.deps.clock.now();
    await store.upsertTimers(
      tx,
      timers.map(({ kind, subject, dueAt, payload }) => ({
        kind,
        subject,
        dueAt,
        payload: payload === undefined ? null : JSON.stringify(payload),
        now,
      })),
    );
  }

  async cancel(tx: Executor, kind: string, subject: string): Promise<void> {
    await store.deleteTimer(tx, kind, subject);
  }

  /** Cancels every timer of `subject` (a case resolved, deleted). */
  async cancelAll(tx: Executor, subject: string): Promise<void> {
    await store.deleteTimersOf(tx, subject);
  }

  /** What is set for `subject`, soonest first. */
  async due(db: Executor, subject: string): Promise<Array<{ kind: string; dueAt: number }>> {
    const rows = await store.timersOf(db, subject);
    return rows.map((row) => ({ kind: row.kind, dueAt: Number(row.due_at) }));
  }

  /**
   * A job run every `everyMs` (housekeeping), on one node at a time: a timer of kind `kind` that
   * reschedules itself in the transaction of each run. A run that says it has more to do runs again
   * on the next poll instead of waiting a whole period.
   */
  recurring(kind: string, everyMs: number, handler: RecurringHandler): void {
    if (!(everyMs > 0)) throw new Error(`recurring job "${kind}": everyMs must be positive`);
    this.on(kind, async (tx, _timer, now) => {
      const more = await handler(tx, now);
      await this.schedule(tx, kind, RECURRING_SUBJECT, more ? now : now + everyMs);
    });
    this.recurringJobs.set(kind, everyMs);
    this.recurringSet = false;
  }

  /** Wakes the worker (after the manual clock moved, or a commit that set a timer due now). */
  wake(): void {
    this.worker.wake();
  }

  /**
   * Fires every timer due at `at` (default: the clock's now), batch after batch; returns how many
   * fired. Each batch looks at the later of `at` and the clock's now, so a long run keeps its leases
   * ahead of the clock. Handler failures are kept and logged, not thrown; a database failure throws.
   */
  async runDue(at: number = this.deps.clock.now()): Promise<number> {
    if (!this.recurringSet) await this.setRecurringTimers(Math.max(at, this.deps.clock.now()));
    let fired = 0;
    for (;;) {
      const now = Math.max(at, this.deps.clock.now());
      const leaseUntil = now + this.settings.leaseMs;
      const claimed = await store.claimDue(
        this.deps.db,
        this.deps.dialect,
        now,
        leaseUntil,
        this.settings.batchSize,
      );
      if (claimed.length === 0) break;
      fired += await this.fire(claimed.sort(soonestFirst), leaseUntil, now);
      if (claimed.length < this.settings.batchSize) break;
    }
    return fired;
  }

  private async setRecurringTimers(now: number): Promise<void> {
    for (const [kind, everyMs] of this.recurringJobs)
      await store.insertTimerIfMissing(this.deps.db, {
        kind,
        subject: RECURRING_SUBJECT,
        dueAt: now + everyMs,
        now,
      });
    this.recurringSet = true;
  }

  /**
   * Fires a claimed batch in one transaction. First all together (one delete, then each handler);
   * if any handler throws, the batch is rolled back and fired again one by one, each in a savepoint,
   * so one failing handler does not hold back the others.
   */
  private async fire(claimed: store.TimerRow[], leaseUntil: number, now: number): Promise<number> {
    try {
      return await this.deps.db.transaction().execute(async (tx) => {
        const taken = await store.takeClaimed(
          tx,
          claimed.map((row) => row.id),
          leaseUntil,
        );
        taken.sort(soonestFirst);
        const byKind = new Map<string, store.TimerRow[]>();
        for (const row of taken) {
          const rows = byKind.get(row.kind);
          if (rows) rows.push(row);
          else byKind.set(row.kind, [row]);
        }
        for (const [kind, rows] of byKind) await this.handle(tx, kind, rows, now);
        return taken.length;
      });
    } catch (error) {
      if (isUnavailableError(error)) throw error;
      return this.fireOneByOne(claimed, leaseUntil, now);
    }
  }

  private async fireOneByOne(claimed: store.TimerRow[], leaseUntil: number, now: number): Promise<number> {
    const failures: Array<{ row: store.TimerRow; error: unknown }> = [];
    const fired = await this.deps.db.transaction().execute(async (tx) => {
      let count = 0;
      for (const row of claimed) {
        await sql`savepoint timer`.execute(tx);
        try {
          const [taken] = await store.takeClaimed(tx, [row.id], leaseUntil);
          if (taken) {
            await this.handle(tx, taken.kind, [taken], now);
            count++;
          }
        } catch (error) {
          if (isUnavailableError(error)) throw error;
          await sql`rollback to savepoint timer`.execute(tx);
          failures.push({ row, error });
        }
        await sql`release savepoint timer`.execute(tx);
      }
      for (const { row } of failures)
        await store.postponeClaimed(tx, row.id, leaseUntil, now + this.retryDelayMs(row.attempts));
      return count;
    });
    for (const { row, error } of failures)
      this.deps.log.error(
        {
          err: error,
          timerId: row.id,
          kind: row.kind,
          attempt: row.attempts,
          retryInMs: this.retryDelayMs(row.attempts),
        },
        "timer handler failed; kept for a retry",
      );
    return fired;
  }

  /** 1 s (or the poll), doubling with each failed try, up to maxBackoffMs. */
  retryDelayMs(attempts: number): number {
    const base = Math.max(this.settings.pollMs, 1_000);
    return Math.min(base * 2 ** Math.max(0, attempts - 1), this.settings.maxBackoffMs);
  }

  private async handle(tx: Tx, kind: string, rows: store.TimerRow[], now: number): Promise<void> {
    const handler = this.handlers.get(kind);
    if (!handler) throw new NoHandlerError(kind);
    await handler(
      tx,
      rows.map((row) => ({
        id: row.id,
        kind: row.kind,
        subject: row.subject,
        dueAt: Number(row.due_at),
        payload: row.payload === null ? null : JSON.parse(row.payload),
        attempt: Number(row.attempts),
      })),
      now,
    );
  }
}
