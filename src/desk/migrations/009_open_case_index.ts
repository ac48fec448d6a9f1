import { type Kysely, sql } from "kysely";

/**
 * Every recovery start and every case intake looks for the address's open case, oldest first. With
 * only (account_address, status) both databases sorted what they found (on SQLite, a sorter set up
 * for every start: 50 µs of an empty table); a partial index of the unresolved cases in that order
 * answers with one index step. Queries must say `status <> 'resolved'` literally to use it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index cases_open_by_address on cases (account_address, opened_at) where status <> 'resolved'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("cases_open_by_address").ifExists().execute();
}
