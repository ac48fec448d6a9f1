import type { Dialect, Executor } from "../db/database.js";
import type { AccountsTable, AlternatesTable } from "../db/schema.js";

/** The accounts feature's SQL: the only place that knows its tables. */
export const findAccountByAddress = (db: Executor, address: string) =>
  db.selectFrom("accounts").selectAll().where("address", "=", address).executeTakeFirst();

export const findAccountById = (db: Executor, id: string) =>
  db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();

/** The account row, held until the transaction ends so concurrent sign-ins count every failure. */
export const lockAccountRow = (tx: Executor, dialect: Dialect, id: string) =>
  tx
    .selectFrom("accounts")
    .selectAll()
    .where("id", "=", id)
    .$if(dialect === "postgres", (qb) => qb.forUpdate())
    .executeTakeFirstOrThrow();

export const insertAccount = (db: Executor, row: AccountsTable) =>
  db.insertInto("accounts").values(row).execute();

export const updateAccount = (db: Executor, id: string, changes: Partial<AccountsTable>) =>
  db.updateTable("accounts").set(changes).where("id", "=", id).execute();

export const insertAlternates = async (db: Executor, rows: AlternatesTable[]) => {
  if (rows.length > 0) await db.insertInto("alternates").values(rows).execute();
};

export const alternatesOf = (db: Executor, accountId: string) =>
  db
    .selectFrom("alternates")
    .selectAll()
    .where("account_id", "=", accountId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();

export const isKnownDevice = async (db: Executor, accountId: string, deviceHash: string) =>
  (await db
    .selectFrom("known_devices")
    .select("account_id")
    .where("account_id", "=", accountId)
    .where("device_hash", "=", deviceHash)
    .executeTakeFirst()) !== undefined;

export async function rememberDevice(db: Executor, accountId: string, deviceHash: string, now: number) {
  await db
    .insertInto("known_devices")
    .values({ account_id: accountId, device_hash: deviceHash, first_seen_at: now, last_seen_at: now })
    .onConflict((oc) => oc.columns(["account_id", "device_hash"]).doUpdateSet({ last_seen_at: now }))
    .execute();
}

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

export const revokeSessionsOf = async (db: Executor, accountId: string, now: number): Promise<number> => {
  const result = await db
    .updateTable("sessions")
    .set({ revoked_at: now })
    .where("account_id", "=", accountId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
};
