import { type Kysely, SqliteAdapter, sql } from "kysely";

/**
 * Recovery hardening: a password token bound to each confirmed recovery, a link token per code
 * mail, counters of capped acts keyed by HMAC (per address and source, per typed destination, wrong
 * codes per address), and the contacts of a case, each with a token of its own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("recoveries").addColumn("password_token_hash", "text").execute();
  // The contact this recovery gave ("I can't reach any of these"): its page shows that one only.
  await db.schema.alterTable("recoveries").addColumn("case_contact_id", "text").execute();
  await db.schema.alterTable("recovery_codes").addColumn("link_token_hash", "text").execute();
  await db.schema
    .createIndex("recovery_codes_link_token")
    .on("recovery_codes")
    .column("link_token_hash")
    .execute();

  // Updated by every capped request: on SQLite a table without rowid keeps the row in its key's
  // B-tree, one page written per update instead of two.
  await db.schema
    .createTable("cap_counters")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("window_start", "bigint", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    .$call((table) =>
      db.getExecutor().adapter instanceof SqliteAdapter ? table.modifyEnd(sql`without rowid`) : table,
    )
    .execute();
  // No index on window_start: the once-a-minute retention scan is cheaper than one more index page
  // written by every capped request.

  await db.schema
    .createTable("case_contacts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("case_id", "text", (c) => c.notNull().references("cases.id").onDelete("cascade"))
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("via", "text", (c) => c.notNull())
    .addColumn("verified", "integer", (c) => c.notNull())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("case_contacts_case_email", ["case_id", "email"])
    .execute();

  // What was written to one contact: their status page shows only these.
  await db.schema.alterTable("case_events").addColumn("contact_id", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("case_events").dropColumn("contact_id").execute();
  await db.schema.dropTable("case_contacts").ifExists().execute();
  await db.schema.dropTable("cap_counters").ifExists().execute();
  await db.schema.dropIndex("recovery_codes_link_token").ifExists().execute();
  await db.schema.alterTable("recovery_codes").dropColumn("link_token_hash").execute();
  await db.schema.alterTable("recoveries").dropColumn("case_contact_id").execute();
  await db.schema.alterTable("recoveries").dropColumn("password_token_hash").execute();
}
