import type { Kysely } from "kysely";

/**
 * A team's queue orders by the nearest deadline, then by id (a stable order for equal deadlines).
 * With the id missing from `cases_queue`, both databases sorted every row of the team in that status
 * that shared a deadline: all its waiting cases (they share NO_DEADLINE), 18,000 rows of a team in the
 * 1,000,000-case bench. With the id in the index the queue is an index range scan that stops at its
 * limit. The new index replaces the old one (same prefix): no extra write per case change.
 * On a large PostgreSQL table, building it holds writes to `cases` for a few seconds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("cases_queue_order")
    .on("cases")
    .columns(["team", "status", "next_due", "id"])
    .execute();
  await db.schema.dropIndex("cases_queue").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex("cases_queue").on("cases").columns(["team", "status", "next_due"]).execute();
  await db.schema.dropIndex("cases_queue_order").execute();
}
