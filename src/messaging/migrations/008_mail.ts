import type { Kysely } from "kysely";

/**
 * Mail headers of outgoing messages (Message-ID, In-Reply-To, References, Reply-To, Auto-Submitted)
 * as JSON text; addresses that bounced permanently (never mailed again); Message-IDs of inbound
 * mail already taken in, so an SMTP client retrying after a timeout does not add a mail twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("outbox").addColumn("headers", "text").execute();
  await db.schema
    .createTable("mail_suppressions")
    .addColumn("address", "text", (c) => c.primaryKey())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("inbound_messages")
    .addColumn("message_id", "text", (c) => c.primaryKey())
    .addColumn("received_at", "bigint", (c) => c.notNull())
    .addColumn("case_id", "text")
    .execute();
  // Housekeeping purges by age.
  await db.schema
    .createIndex("inbound_messages_received")
    .on("inbound_messages")
    .column("received_at")
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("inbound_messages").ifExists().execute();
  await db.schema.dropTable("mail_suppressions").ifExists().execute();
  await db.schema.alterTable("outbox").dropColumn("headers").execute();
}
