import { sql } from "kysely";
import type { Executor } from "../db/database.js";
import type { RecoveriesTable, RecoveryCodesTable, RecoveryState } from "../db/schema.js";

export const insertRecovery = (db: Executor, row: RecoveriesTable) =>
  db.insertInto("recoveries").values(row).execute();

export const findRecovery = (db: Executor, id: string) =>
  db.selectFrom("recoveries").selectAll().where("id", "=", id).executeTakeFirst();

export const updateRecovery = (db: Executor, id: string, changes: Partial<RecoveriesTable>) =>
  db.updateTable("recoveries").set(changes).where("id", "=", id).execute();

/** Moves a recovery from one state to the next only if nobody else did first. */
export async function advanceRecovery(
  db: Executor,
  id: string,
  from: RecoveryState,
  changes: Partial<RecoveriesTable>,
) {
  const result = await db
    .updateTable("recoveries")
    .set(changes)
    .where("id", "=", id)
    .where("state", "=", from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countRecoveriesSince(db: Executor, address: string, since: number): Promise<number> {
  const row = await db
    .selectFrom("recoveries")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("address", "=", address)
    .where("started_at", ">", since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export const attemptsOf = (db: Executor, address: string, since: number) =>
  db
    .selectFrom("recoveries")
    .select(["started_at", "completed_at"])
    .where("address", "=", address)
    .where("started_at", ">", since)
    .execute();

/** Ends every other unfinished recovery of the account: one recovery wins. */
export const endOtherRecoveries = (db: Executor, accountId: string, keepId: string, now: number) =>
  db
    .updateTable("recoveries")
    .set({ state: "done", completed_at: now })
    .where("account_id", "=", accountId)
    .where("id", "!=", keepId)
    .where("state", "!=", "done")
    .execute();

export const insertCode = (db: Executor, row: RecoveryCodesTable) =>
  db.insertInto("recovery_codes").values(row).execute();

/** The code in force: the live one if any (two codes can share a millisecond), else the newest. */
export const latestCodeOf = (db: Executor, recoveryId: string) =>
  db
    .selectFrom("recovery_codes")
    .selectAll()
    .where("recovery_id", "=", recoveryId)
    .orderBy(sql`case when voided_at is null then 0 else 1 end`)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();

/** How many acts a cap counted under `key` since `since`, and when the oldest of them was. */
/**
 * Counts one act of `key` at `at` only if fewer than `limit` were counted since `since`; true when
 * counted. One statement: the cap check and the count cannot drift apart.
 */
export async function addHitWithin(db: Executor, key: string, at: number, since: number, limit: number) {
  const result = await sql`insert into throttle_hits (key, at)
    select cast(${key} as text), cast(${at} as bigint)
    where (select count(*) from throttle_hits where key = ${key} and at > ${since}) < ${limit}`.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}

export async function hitsSince(db: Executor, key: string, since: number) {
  const row = await db
    .selectFrom("throttle_hits")
    .select((eb) => [eb.fn.countAll().as("count"), eb.fn.min("at").as("oldest")])
    .where("key", "=", key)
    .where("at", ">", since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldest: row.oldest === null ? null : Number(row.oldest) };
}

export const addHit = (db: Executor, key: string, at: number) =>
  db.insertInto("throttle_hits").values({ key, at }).execute();

/**
 * Voids the codes still usable; none is older than the longest code life, so only those are looked at.
 * `realOnly`: only codes that were really sent (a decoy never voids anything beyond its own recovery).
 */
export const voidLiveCodes = (
  db: Executor,
  where: { address: string } | { recoveryId: string },
  now: number,
  longestLifeMs: number,
  realOnly = false,
) => {
  let query = db
    .updateTable("recovery_codes")
    .set({ voided_at: now })
    .where("created_at", ">", now - longestLifeMs)
    .where("used_at", "is", null)
    .where("voided_at", "is", null);
  query =
    "address" in where
      ? query.where("address", "=", where.address)
      : query.where("recovery_id", "=", where.recoveryId);
  if (realOnly) query = query.where("code_hash", "is not", null);
  return query.execute();
};

/** Retention of every cap's counters: nothing older than the longest window is kept. */
export const pruneAllHits = (db: Executor, before: number) =>
  db.deleteFrom("throttle_hits").where("at", "<=", before).execute();

export const findCodeByLinkToken = (db: Executor, linkTokenHash: string) =>
  db.selectFrom("recovery_codes").selectAll().where("link_token_hash", "=", linkTokenHash).executeTakeFirst();

/** Takes one try of a code, atomically, so parallel guesses cannot exceed the limit. */
export async function takeCodeTry(db: Executor, codeId: string, maxTries: number): Promise<boolean> {
  const result = await db
    .updateTable("recovery_codes")
    .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
    .where("id", "=", codeId)
    .where("attempts", "<", maxTries)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export const markCodeUsed = async (db: Executor, codeId: string, now: number) => {
  const result = await db
    .updateTable("recovery_codes")
    .set({ used_at: now })
    .where("id", "=", codeId)
    .where("used_at", "is", null)
    .where("voided_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
};

/** The recent codes of a recovery that a newer one voided (to tell an older mail's code apart). */
export const voidedCodesOf = (db: Executor, recoveryId: string, limit = 10) =>
  db
    .selectFrom("recovery_codes")
    .select(["id", "code_hash"])
    .where("recovery_id", "=", recoveryId)
    .where("voided_at", "is not", null)
    .where("code_hash", "is not", null)
    .orderBy("created_at", "desc")
    .limit(limit)
    .execute();
