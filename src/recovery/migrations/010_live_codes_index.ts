import { type Kysely, sql } from "kysely";

/**
 * Every new code voids the address's live real codes. Indexed by (address, created_at) over every
 * code, that update walked each code the address was sent in the last day, voided or used, and
 * fetched its row to find the few still live (17 µs a request in the bench); each new code also
 * wrote a random page of that large index. Only live codes are ever looked up by address, so the
 * index holds only those: at most one per recovery of the address. Queries must say `used_at is
 * null and voided_at is null` to use it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index recovery_codes_live_by_address on recovery_codes (address, created_at) where used_at is null and voided_at is null`.execute(
    db,
  );
  await db.schema.dropIndex("recovery_codes_address").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("recovery_codes_address")
    .on("recovery_codes")
    .columns(["address", "created_at"])
    .execute();
  await db.schema.dropIndex("recovery_codes_live_by_address").execute();
}
