import type { Kysely } from "kysely";

/**
 * Durable timers: one row per deadline (kind, subject), fired once by whichever node claims it.
 * `lease_until` is a claim (or, after a failed handler, the earliest retry); `attempts` counts claims.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("timers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("due_at", "bigint", (c) => c.notNull())
    .addColumn("lease_until", "bigint")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("payload", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("timers_kind_subject", ["kind", "subject"])
    .execute();
  await db.schema.createIndex("timers_due").on("timers").column("due_at").execute();
  // cancelAll(subject) and due(subject): every timer of one case.
  await db.schema.createIndex("timers_subject").on("timers").column("subject").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("timers").ifExists().execute();
}
