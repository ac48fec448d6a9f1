import type { Kysely } from "kysely";

/**
 * Outbox messages that carry a one-time code name it, so the dispatcher can drop a message whose
 * code was voided or used before it went out.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("outbox").addColumn("code_id", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("outbox").dropColumn("code_id").execute();
}
