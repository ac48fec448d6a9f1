import { type Kysely, sql } from "kysely";

/**
 * Every new code voids the live codes of its recovery and the live real codes of its address.
 * Indexed by (recovery_id, created_at) and (address, created_at) over every code, that update
 * walked each code the recovery and the address got in the last day, voided or used, and fetched
 * its row to find the few still live (17 µs a request in the bench, growing with the codes sent);
 * each new code also wrote a random page of the large address index. Now the address index holds
 * only live codes (at most one per recovery of the address), and the recovery's index puts its live
 * codes first. Queries must say `used_at is null and voided_at is null` to use the partial index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index recovery_codes_live_by_address on recovery_codes (address, created_at) where used_at is null and voided_at is null`.execute(
    db,
  );
  await db.schema.dropIndex("recovery_codes_address").execute();
  await db.schema
    .createIndex("recovery_codes_by_recovery")
    .on("recovery_codes")
    .columns(["recovery_id", "voided_at", "created_at"])
    .execute();
  await db.schema.dropIndex("recovery_codes_recovery").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("recovery_codes_recovery")
    .on("recovery_codes")
    .columns(["recovery_id", "created_at"])
    .execute();
  await db.schema.dropIndex("recovery_codes_by_recovery").execute();
  await db.schema
    .createIndex("recovery_codes_address")
    .on("recovery_codes")
    .columns(["address", "created_at"])
    .execute();
  await db.schema.dropIndex("recovery_codes_live_by_address").execute();
}
