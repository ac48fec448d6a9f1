import { sql } from "kysely";
import type { Dialect, Executor } from "../db/database.js";
import { prepared } from "../db/prepared.js";
import type { AccountsTable, AlternatesTable, SigninThrottleTable } from "../db/schema.js";

/** The accounts feature's SQL: the only place that knows its tables. */
const accountByAddress = prepared((db: Executor, address: string) =>
  db.selectFrom("accounts").selectAll().where("address", "=", address),
);
export const findAccountByAddress = async (db: Executor, address: string) =>
  (await accountByAddress(db, address)).rows[0];

const accountById = prepared((db: Executor, id: string) =>
  db.selectFrom("accounts").selectAll().where("id", "=", id),
);
export const findAccountById = async (db: Executor, id: string) => (await accountById(db, id)).rows[0];

/** The account row, held until the transaction ends so concurrent changes of it wait for each other. */
export const lockAccountRow = (tx: Executor, dialect: Dialect, id: string) =>
  tx
    .selectFrom("accounts")
    .selectAll()
    .where("id", "=", id)
    .$if(dialect === "postgres", (qb) => qb.forUpdate())
    .executeTakeFirstOrThrow();

/** The same, found by address: undefined (after the same query) when no account has it. */
export const lockAccountRowByAddress = (tx: Executor, dialect: Dialect, address: string) =>
  tx
    .selectFrom("accounts")
    .selectAll()
    .where("address", "=", address)
    .$if(dialect === "postgres", (qb) => qb.forUpdate())
    .executeTakeFirst();

const throttleOf = prepared((db: Executor, keyHash: string) =>
  db.selectFrom("signin_throttle").selectAll().where("key_hash", "=", keyHash),
);
export const findThrottle = async (db: Executor, keyHash: string) => (await throttleOf(db, keyHash)).rows[0];

/**
 * The throttle row of a key, created when missing and held until the transaction ends, so that
 * concurrent failures on one address (from any node) are each counted. Always taken before the
 * account's row, by every use-case, so the two locks never wait for each other in a cycle.
 */
export async function lockThrottleRow(
  tx: Executor,
  dialect: Dialect,
  keyHash: string,
  now: number,
): Promise<SigninThrottleTable> {
  await tx
    .insertInto("signin_throttle")
    .values({
      key_hash: keyHash,
      failures: 0,
      window_start: null,
      level: 0,
      locked_since: null,
      locked_until: null,
      updated_at: now,
    })
    .onConflict((oc) => oc.column("key_hash").doNothing())
    .execute();
  return tx
    .selectFrom("signin_throttle")
    .selectAll()
    .where("key_hash", "=", keyHash)
    .$if(dialect === "postgres", (qb) => qb.forUpdate())
    .executeTakeFirstOrThrow();
}

export const updateThrottle = (
  tx: Executor,
  keyHash: string,
  changes: Partial<Omit<SigninThrottleTable, "key_hash">>,
) => tx.updateTable("signin_throttle").set(changes).where("key_hash", "=", keyHash).execute();

export const deleteThrottle = (tx: Executor, keyHash: string) =>
  tx.deleteFrom("signin_throttle").where("key_hash", "=", keyHash).execute();

export const insertAccount = (db: Executor, row: AccountsTable) =>
  db.insertInto("accounts").values(row).execute();

export const updateAccount = (db: Executor, id: string, changes: Partial<AccountsTable>) =>
  db.updateTable("accounts").set(changes).where("id", "=", id).execute();

export const insertAlternates = async (db: Executor, rows: AlternatesTable[]) => {
  if (rows.length > 0) await db.insertInto("alternates").values(rows).execute();
};

/** The account whose verified phone this is (E.164), if one: the phone system names callers by number. */
export const findAccountByVerifiedPhone = (db: Executor, phone: string) =>
  db
    .selectFrom("alternates")
    .innerJoin("accounts", "accounts.id", "alternates.account_id")
    .selectAll("accounts")
    .where("alternates.kind", "=", "phone")
    .where("alternates.value", "=", phone)
    .where("alternates.verified", "=", 1)
    .orderBy("accounts.created_at")
    .limit(sql.lit(1))
    .executeTakeFirst();

const alternatesOfAccount = prepared((db: Executor, accountId: string) =>
  db
    .selectFrom("alternates")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("created_at")
    .orderBy("id"),
);
export const alternatesOf = async (db: Executor, accountId: string) =>
  (await alternatesOfAccount(db, accountId)).rows;

export const findKnownDevice = (db: Executor, accountId: string, deviceHash: string) =>
  db
    .selectFrom("known_devices")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("device_hash", "=", deviceHash)
    .executeTakeFirst();

/** Devices an account knows at most: the ones seen longest ago are forgotten first. */
export const KNOWN_DEVICES_PER_ACCOUNT = 20;

/**
 * Known from now on (or still), with its failure count back to zero. A client that never sends its
 * id back gets a new one at each sign-in, so the list is capped.
 */
export async function rememberDevice(db: Executor, accountId: string, deviceHash: string, now: number) {
  const fresh = { last_seen_at: now, failed_signins: 0, failed_window_start: null };
  await db
    .insertInto("known_devices")
    .values({ account_id: accountId, device_hash: deviceHash, first_seen_at: now, ...fresh })
    .onConflict((oc) => oc.columns(["account_id", "device_hash"]).doUpdateSet(fresh))
    .execute();
  await db
    .deleteFrom("known_devices")
    .where("account_id", "=", accountId)
    .where("device_hash", "!=", deviceHash)
    .where("device_hash", "not in", (eb) =>
      eb
        .selectFrom("known_devices")
        .select("device_hash")
        .where("account_id", "=", accountId)
        .orderBy("last_seen_at", "desc")
        .orderBy("first_seen_at", "desc")
        .limit(KNOWN_DEVICES_PER_ACCOUNT),
    )
    .execute();
}

export const updateKnownDevice = (
  db: Executor,
  accountId: string,
  deviceHash: string,
  changes: { failed_signins: number; failed_window_start: number | null },
) =>
  db
    .updateTable("known_devices")
    .set(changes)
    .where("account_id", "=", accountId)
    .where("device_hash", "=", deviceHash)
    .execute();

export const forgetDevice = (db: Executor, accountId: string, deviceHash: string) =>
  db
    .deleteFrom("known_devices")
    .where("account_id", "=", accountId)
    .where("device_hash", "=", deviceHash)
    .execute();

/** Forgets every device the account knew; returns how many. */
export const forgetDevicesOf = async (db: Executor, accountId: string): Promise<number> =>
  Number(
    (await db.deleteFrom("known_devices").where("account_id", "=", accountId).executeTakeFirst())
      .numDeletedRows,
  );

/** The current hash joins the history; only the newest `keep` stay. */
export async function recordReplacedPassword(
  tx: Executor,
  accountId: string,
  passwordHash: string,
  now: number,
  keep: number,
) {
  const last = await tx
    .selectFrom("password_history")
    .select((eb) => eb.fn.max("seq").as("seq"))
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  const seq = Number(last?.seq ?? 0) + 1;
  await tx
    .insertInto("password_history")
    .values({ account_id: accountId, seq, password_hash: passwordHash, replaced_at: now })
    .execute();
  await tx
    .deleteFrom("password_history")
    .where("account_id", "=", accountId)
    .where("seq", "<=", seq - keep)
    .execute();
}

export const previousPasswordHashes = async (db: Executor, accountId: string): Promise<string[]> =>
  (
    await db
      .selectFrom("password_history")
      .select("password_hash")
      .where("account_id", "=", accountId)
      .orderBy("seq", "desc")
      .execute()
  ).map((row) => row.password_hash);

export const insertSession = (
  db: Executor,
  row: {
    id: string;
    account_id: string;
    token_hash: string;
    device_hash: string | null;
    created_at: number;
    expires_at: number;
  },
) =>
  db
    .insertInto("sessions")
    .values({ ...row, revoked_at: null })
    .execute();

export const findLiveSession = (db: Executor, tokenHash: string, now: number) =>
  db
    .selectFrom("sessions")
    .innerJoin("accounts", "accounts.id", "sessions.account_id")
    .select([
      "sessions.id as sessionId",
      "sessions.expires_at as expiresAt",
      "accounts.id as accountId",
      "accounts.address as address",
      "accounts.display_name as displayName",
    ])
    .where("sessions.token_hash", "=", tokenHash)
    .where("sessions.revoked_at", "is", null)
    .where("sessions.expires_at", ">", now)
    .executeTakeFirst();

/** Ends one live session; returns its account, or undefined when it was not live. */
export const revokeSession = (db: Executor, tokenHash: string, now: number) =>
  db
    .updateTable("sessions")
    .set({ revoked_at: now })
    .where("token_hash", "=", tokenHash)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .returning("account_id")
    .executeTakeFirst();

export const revokeSessionsOf = async (db: Executor, accountId: string, now: number): Promise<number> => {
  const result = await db
    .updateTable("sessions")
    .set({ revoked_at: now })
    .where("account_id", "=", accountId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
};
