import type { Kysely } from "kysely";

/**
 * The support desk: each case gets its routing (language, country), tier, team and SLA deadlines,
 * denormalised so that a team's queue is one index range scan ordered by the nearest deadline.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const add = (column: string, type: "text" | "bigint" | "integer", notNull?: string | number) =>
    db.schema
      .alterTable("cases")
      .addColumn(column, type, (c) => (notNull === undefined ? c : c.notNull().defaultTo(notNull)))
      .execute();
  await add("language", "text", "en");
  await add("country", "text");
  await add("tier", "integer", 1);
  await add("team", "text", "");
  await add("priority", "text", "normal");
  await add("subject", "text");
  await add("contact_phone", "text");
  await add("tier_since", "bigint", 0);
  await add("first_response_at", "bigint");
  await add("due_first_response", "bigint");
  await add("due_next_update", "bigint");
  await add("due_resolution", "bigint");
  await add("next_due", "bigint");
  await add("paused_at", "bigint");
  await add("resolved_at", "bigint");
  // A team's queue: its open cases, nearest deadline first, then by id. With the id in the index the
  // queue is a range scan that stops at its limit; without it both databases sorted every case of
  // the team that shared a deadline (all its waiting cases share "none": 18,000 rows in the bench).
  await db.schema
    .createIndex("cases_queue")
    .on("cases")
    .columns(["team", "status", "next_due", "id"])
    .execute();
  await db.schema.createIndex("cases_phone").on("cases").columns(["contact_phone", "status"]).execute();
  // Every mail to a contact carries their status link: the token is kept sealed to write it again.
  await db.schema.alterTable("case_contacts").addColumn("token_sealed", "text").execute();
  await db.schema.createIndex("case_contacts_email").on("case_contacts").column("email").execute();
  // A contact's status page and the caps on mail to a contact read the events of one contact.
  await db.schema
    .createIndex("case_events_contact")
    .on("case_events")
    .columns(["contact_id", "at"])
    .execute();

  await db.schema
    .createTable("case_surveys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("case_id", "text", (c) => c.notNull().references("cases.id").onDelete("cascade"))
    .addColumn("contact_id", "text", (c) => c.notNull())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("sent_at", "bigint")
    .addColumn("answered_at", "bigint")
    .addColumn("voided_at", "bigint")
    .addColumn("score", "integer")
    .addColumn("comment", "text")
    .execute();
  await db.schema.createIndex("case_surveys_case").on("case_surveys").column("case_id").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("case_surveys").ifExists().execute();
  await db.schema.dropIndex("case_events_contact").ifExists().execute();
  await db.schema.dropIndex("case_contacts_email").ifExists().execute();
  await db.schema.alterTable("case_contacts").dropColumn("token_sealed").execute();
  await db.schema.dropIndex("cases_phone").ifExists().execute();
  await db.schema.dropIndex("cases_queue").ifExists().execute();
  for (const column of [
    "resolved_at",
    "paused_at",
    "next_due",
    "due_resolution",
    "due_next_update",
    "due_first_response",
    "first_response_at",
    "tier_since",
    "contact_phone",
    "subject",
    "priority",
    "team",
    "tier",
    "country",
    "language",
  ])
    await db.schema.alterTable("cases").dropColumn(column).execute();
}
