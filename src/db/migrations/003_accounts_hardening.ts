import { type Kysely, sql } from "kysely";

/**
 * Accounts hardening: the sign-in throttle keyed by the address's HMAC (the same row for an unknown
 * and an existing address), failures counted per known device, and the previous password hashes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("signin_throttle")
    .addColumn("key_hash", "text", (c) => c.primaryKey())
    .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("window_start", "bigint")
    .addColumn("level", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("locked_since", "bigint")
    .addColumn("locked_until", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("signin_throttle_updated").on("signin_throttle").column("updated_at").execute();

  await db.schema
    .createTable("password_history")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("replaced_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("password_history_pk", ["account_id", "seq"])
    .execute();

  await db.schema
    .alterTable("known_devices")
    .addColumn("failed_signins", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("known_devices").addColumn("failed_window_start", "bigint").execute();

  // Device ids used to be chosen by the client: none of them was issued, so none stays known.
  await sql`delete from known_devices`.execute(db);
  // brute_force now lives in signin_throttle only; such a lock lasted 15 minutes at most.
  await sql`update accounts set lock_reason = null, lock_since = null, lock_until = null, lock_note = null where lock_reason = 'brute_force'`.execute(
    db,
  );
  // The per-account failure counters moved to signin_throttle.
  for (const column of ["failed_signins", "failed_window_start", "brute_force_level"])
    await db.schema.alterTable("accounts").dropColumn(column).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("accounts")
    .addColumn("failed_signins", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("accounts").addColumn("failed_window_start", "bigint").execute();
  await db.schema
    .alterTable("accounts")
    .addColumn("brute_force_level", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("known_devices").dropColumn("failed_window_start").execute();
  await db.schema.alterTable("known_devices").dropColumn("failed_signins").execute();
  await db.schema.dropTable("password_history").ifExists().execute();
  await db.schema.dropTable("signin_throttle").ifExists().execute();
}
