import { sql } from "kysely";
import type { Dialect, Executor } from "../db/database.js";
import { prepared, preparedInsert } from "../db/prepared.js";
import type { RecoveriesTable, RecoveryCodesTable, RecoveryState } from "../db/schema.js";

const insertNewRecovery = prepared(
  (db: Executor, id: string, address: string, accountId: string | null, locale: string, startedAt: number) =>
    db.insertInto("recoveries").values({
      id,
      address,
      account_id: accountId,
      locale,
      state: "choose_channel",
      started_at: startedAt,
      verified_at: null,
      completed_at: null,
      case_id: null,
      password_token_hash: null,
      case_contact_id: null,
    }),
);
/** A recovery at its first step: choosing a channel. */
export const insertRecovery = (
  db: Executor,
  row: Pick<RecoveriesTable, "id" | "address" | "account_id" | "locale" | "started_at">,
) => insertNewRecovery(db, row.id, row.address, row.account_id, row.locale, row.started_at);

const recoveryById = prepared((db: Executor, id: string) =>
  db.selectFrom("recoveries").selectAll().where("id", "=", id),
);
export const findRecovery = async (db: Executor, id: string) => (await recoveryById(db, id)).rows[0];

// Only what a code request reads: better-sqlite3 makes each column a property of a new object.
const recoveryStepById = prepared((db: Executor, id: string) =>
  db
    .selectFrom("recoveries")
    .select(["address", "account_id", "locale", "state", "verified_at"])
    .where("id", "=", id),
);
/** Where a recovery stands, for a new code: its address, account, language, step and confirmation. */
export const findRecoveryStep = async (db: Executor, id: string) => (await recoveryStepById(db, id)).rows[0];

const awaitCodeUnlessConfirmed = prepared((db: Executor, id: string, confirmedSince: number) =>
  db
    .updateTable("recoveries")
    .set({ state: "enter_code", verified_at: null, password_token_hash: null })
    .where("id", "=", id)
    .where("state", "!=", "done")
    .where((eb) => eb.or([eb("state", "!=", "set_password"), eb("verified_at", "<", confirmedSince)])),
);

/**
 * A new code was sent: the recovery waits for it. Refused (false) when it is done, or its code was
 * confirmed at `confirmedSince` or later: checked in the statement that changes it, so a
 * confirmation committed a moment before is never undone.
 */
export const awaitCode = async (db: Executor, id: string, confirmedSince: number) =>
  (await awaitCodeUnlessConfirmed(db, id, confirmedSince)).numAffectedRows === 1n;

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

export const insertCode: (db: Executor, row: RecoveryCodesTable) => Promise<unknown> = preparedInsert(
  "recovery_codes",
  [
    "id",
    "recovery_id",
    "address",
    "channel",
    "destination_masked",
    "code_hash",
    "attempts",
    "created_at",
    "expires_at",
    "used_at",
    "voided_at",
    "link_token_hash",
  ],
);

/** The code in force: the live one if any (two codes can share a millisecond), else the newest. */
export const latestCodeOf = (db: Executor, recoveryId: string) =>
  db
    .selectFrom("recovery_codes")
    .selectAll()
    .where("recovery_id", "=", recoveryId)
    .orderBy(sql`case when voided_at is null then 0 else 1 end`)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .limit(sql.lit(1))
    .executeTakeFirst();

/**
 * Before a new code: voids the live codes of `recoveryId` and the live real codes of `address` (no
 * code row has an empty address, so "" voids only the recovery's own).
 */
export async function voidCodesBeforeNew(
  db: Executor,
  dialect: Dialect,
  recoveryId: string,
  address: string,
  now: number,
  longestLifeMs: number,
) {
  const since = now - longestLifeMs;
  if (dialect === "postgres") {
    // One statement: one round trip.
    await voidLiveBeforeNew(db, now, since, recoveryId, address);
    return;
  }
  // On SQLite an UPDATE that searches an index holding a column it changes first copies the rows
  // it found into a temporary table; found first and voided one by one (one or two rows), none is
  // built.
  for (const { id } of (await liveBeforeNew(db, since, recoveryId, address)).rows)
    await voidCode(db, id, now);
}

// Two index searches: said as one OR, SQLite scanned the whole live-codes index instead.
const liveCodeIds = (db: Executor, since: number, recoveryId: string, address: string) =>
  db
    .selectFrom("recovery_codes")
    .select("id")
    .where("recovery_id", "=", recoveryId)
    .where("voided_at", "is", null)
    .where("created_at", ">", since)
    .unionAll(
      db
        .selectFrom("recovery_codes")
        .select("id")
        .where("address", "=", address)
        .where("created_at", ">", since)
        .where("used_at", "is", null)
        .where("voided_at", "is", null)
        .where("code_hash", "is not", null),
    );

const liveBeforeNew = prepared(liveCodeIds);

const voidLiveBeforeNew = prepared(
  (db: Executor, now: number, since: number, recoveryId: string, address: string) =>
    db
      .updateTable("recovery_codes")
      .set({ voided_at: now })
      .where("used_at", "is", null)
      .where("voided_at", "is", null)
      .where("id", "in", liveCodeIds(db, since, recoveryId, address)),
);

const voidCode = prepared((db: Executor, id: string, now: number) =>
  db
    .updateTable("recovery_codes")
    .set({ voided_at: now })
    .where("id", "=", id)
    .where("used_at", "is", null)
    .where("voided_at", "is", null),
);

/** Voids the address's codes still usable; none is older than the longest code life, so only those are looked at. */
export const voidLiveCodes = (db: Executor, address: string, now: number, longestLifeMs: number) =>
  db
    .updateTable("recovery_codes")
    .set({ voided_at: now })
    .where("address", "=", address)
    .where("created_at", ">", now - longestLifeMs)
    .where("used_at", "is", null)
    .where("voided_at", "is", null)
    .execute();

/** Retention of every cap's counters: a window that started before `before` is over. */
export const pruneCounters = (db: Executor, before: number) =>
  db.deleteFrom("cap_counters").where("window_start", "<=", before).execute();

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
