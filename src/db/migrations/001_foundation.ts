import type { Kysely } from "kysely";

// Types chosen to mean the same on SQLite and PostgreSQL: bigint for epoch-ms, integer for 0/1.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("accounts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("address", "text", (c) => c.notNull().unique())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("display_name", "text")
    .addColumn("locale", "text", (c) => c.notNull())
    .addColumn("country", "text")
    .addColumn("lock_reason", "text")
    .addColumn("lock_since", "bigint")
    .addColumn("lock_until", "bigint")
    .addColumn("lock_note", "text")
    .addColumn("failed_signins", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failed_window_start", "bigint")
    .addColumn("brute_force_level", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("password_changed_at", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("alternates")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("verified", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("alternates_account_kind_value", ["account_id", "kind", "value"])
    .execute();

  await db.schema
    .createTable("known_devices")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("device_hash", "text", (c) => c.notNull())
    .addColumn("first_seen_at", "bigint", (c) => c.notNull())
    .addColumn("last_seen_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("known_devices_pk", ["account_id", "device_hash"])
    .execute();

  await db.schema
    .createTable("sessions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("device_hash", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema.createIndex("sessions_account").on("sessions").column("account_id").execute();

  await db.schema
    .createTable("cases")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("ref", "text", (c) => c.notNull().unique())
    .addColumn("account_id", "text", (c) => c.references("accounts.id").onDelete("set null"))
    .addColumn("account_address", "text", (c) => c.notNull())
    .addColumn("contact_email", "text")
    .addColumn("locale", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("first_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("opened_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("cases_address_status")
    .on("cases")
    .columns(["account_address", "status"])
    .execute();

  await db.schema
    .createTable("case_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("case_id", "text", (c) => c.notNull().references("cases.id").onDelete("cascade"))
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("detail", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("case_events_case").on("case_events").columns(["case_id", "at"]).execute();

  await db.schema
    .createTable("recoveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.references("accounts.id").onDelete("cascade"))
    .addColumn("locale", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("verified_at", "bigint")
    .addColumn("completed_at", "bigint")
    .addColumn("case_id", "text", (c) => c.references("cases.id").onDelete("set null"))
    .execute();
  await db.schema
    .createIndex("recoveries_address_started")
    .on("recoveries")
    .columns(["address", "started_at"])
    .execute();

  await db.schema
    .createTable("recovery_codes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("recovery_id", "text", (c) => c.notNull().references("recoveries.id").onDelete("cascade"))
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("destination_masked", "text", (c) => c.notNull())
    .addColumn("code_hash", "text")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .addColumn("voided_at", "bigint")
    .execute();
  await db.schema
    .createIndex("recovery_codes_recovery")
    .on("recovery_codes")
    .columns(["recovery_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("recovery_codes_address")
    .on("recovery_codes")
    .columns(["address", "created_at"])
    .execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("account_id", "text")
    .addColumn("detail", "text", (c) => c.notNull())
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("audit_log_pk", ["stream", "seq"])
    .execute();

  await db.schema
    .createTable("outbox")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("recipient", "text", (c) => c.notNull())
    .addColumn("subject", "text")
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("claimed_until", "bigint")
    .addColumn("last_error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("sent_at", "bigint")
    .execute();
  await db.schema.createIndex("outbox_due").on("outbox").columns(["status", "next_attempt_at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "outbox",
    "audit_log",
    "recovery_codes",
    "recoveries",
    "case_events",
    "cases",
    "sessions",
    "known_devices",
    "alternates",
    "accounts",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
