import type { OnConflictBuilder } from "kysely";
import type { Dialect, Executor, Tx } from "../db/database.js";
import { prepared, runsDirectly } from "../db/prepared.js";
import type { Database } from "../db/schema.js";
import { newId } from "../platform/ids.js";
import type { TimersTable } from "./schema.js";

export type TimerRow = TimersTable;

/** A timer set again is moved: a new id, instant and payload, and no claim. */
const moved = (oc: OnConflictBuilder<Database, "timers">) =>
  oc.columns(["kind", "subject"]).doUpdateSet((eb) => ({
    id: eb.ref("excluded.id"),
    due_at: eb.ref("excluded.due_at"),
    payload: eb.ref("excluded.payload"),
    lease_until: null,
    attempts: 0,
  }));

const upsert = prepared(
  (
    tx: Executor,
    id: string,
    kind: string,
    subject: string,
    dueAt: number,
    payload: string | null,
    now: number,
  ) =>
    tx
      .insertInto("timers")
      .values({
        id,
        kind,
        subject,
        due_at: dueAt,
        lease_until: null,
        attempts: 0,
        payload,
        created_at: now,
      })
      .onConflict(moved),
);

/**
 * Sets the (kind, subject) timer, or moves the one already set. A moved timer gets a new id and
 * loses its claim: a node that claimed the old instant finds nothing to fire (see takeClaimed).
 */
export type TimerToSet = {
  kind: string;
  subject: string;
  dueAt: number;
  payload: string | null;
  now: number;
};

/** A timer's row as first set: a new id, not claimed, no attempt yet. */
const newTimer = (row: TimerToSet): TimerRow => ({
  id: newId(),
  kind: row.kind,
  subject: row.subject,
  due_at: row.dueAt,
  lease_until: null,
  attempts: 0,
  payload: row.payload,
  created_at: row.now,
});

export const upsertTimer = (tx: Executor, row: TimerToSet) =>
  upsert(tx, newId(), row.kind, row.subject, row.dueAt, row.payload, row.now);

/**
 * Sets several timers: in one statement where each statement is a round trip (PostgreSQL: a new
 * case's five were five), one prepared statement each on SQLite's connection.
 */
export async function upsertTimers(tx: Executor, rows: TimerToSet[]): Promise<void> {
  if (rows.length <= 1 || runsDirectly(tx)) {
    for (const row of rows) await upsertTimer(tx, row);
    return;
  }
  // One statement may not touch a row twice (PostgreSQL refuses it): the last of a (kind, subject)
  // wins, as it would one statement after the other.
  const last = new Map(rows.map((row) => [`${row.kind}\u0000${row.subject}`, row]));
  await tx
    .insertInto("timers")
    .values([...last.values()].map(newTimer))
    .onConflict(moved)
    .execute();
}

/** Sets the timer unless one is set already (a recurring job: its next instant survives restarts). */
export const insertTimerIfMissing = (
  db: Executor,
  row: { kind: string; subject: string; dueAt: number; now: number },
) =>
  db
    .insertInto("timers")
    .values(newTimer({ ...row, payload: null }))
    .onConflict((oc) => oc.columns(["kind", "subject"]).doNothing())
    .execute();

export const deleteTimer = (tx: Executor, kind: string, subject: string) =>
  tx.deleteFrom("timers").where("kind", "=", kind).where("subject", "=", subject).execute();

export const deleteTimersOf = (tx: Executor, subject: string) =>
  tx.deleteFrom("timers").where("subject", "=", subject).execute();

export const timersOf = (db: Executor, subject: string) =>
  db
    .selectFrom("timers")
    .select(["kind", "due_at"])
    .where("subject", "=", subject)
    .orderBy("due_at")
    .orderBy("kind")
    .execute();

/**
 * Claims up to `limit` due timers until `leaseUntil`, in one statement. On PostgreSQL the rows are
 * picked FOR UPDATE SKIP LOCKED, so nodes claiming at once take different rows; SQLite has one writer.
 * A timer whose claim ran out (its node died) or whose retry time came is due again.
 */
export const claimDue = (db: Executor, dialect: Dialect, now: number, leaseUntil: number, limit: number) =>
  db
    .updateTable("timers")
    .set((eb) => ({ lease_until: leaseUntil, attempts: eb("attempts", "+", 1) }))
    .where("id", "in", (eb) =>
      eb
        .selectFrom("timers")
        .select("id")
        .where("due_at", "<=", now)
        .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", now)]))
        .orderBy("due_at")
        .limit(limit)
        .$if(dialect === "postgres", (q) => q.forUpdate().skipLocked()),
    )
    .returningAll()
    .execute();

/**
 * Removes the claimed timers this claim still holds (same id, same lease) and returns them: the
 * caller fires them in this transaction. A timer moved, cancelled or re-claimed by another node
 * since (its claim ran out) is not returned, so nothing fires twice.
 */
export const takeClaimed = (tx: Tx, ids: string[], leaseUntil: number) =>
  tx
    .deleteFrom("timers")
    .where("id", "in", ids)
    .where("lease_until", "=", leaseUntil)
    .returningAll()
    .execute();

/** After a failed handler: not retried before `retryAt` (the lease column doubles as "not before"). */
export const postponeClaimed = (tx: Executor, id: string, leaseUntil: number, retryAt: number) =>
  tx
    .updateTable("timers")
    .set({ lease_until: retryAt })
    .where("id", "=", id)
    .where("lease_until", "=", leaseUntil)
    .execute();
