import type { Executor } from "../db/database.js";
import type { CaseContactsTable, CaseEventsTable, CasesTable } from "../db/schema.js";

export const insertCase = (db: Executor, row: CasesTable) => db.insertInto("cases").values(row).execute();

export const findCaseById = (db: Executor, id: string) =>
  db.selectFrom("cases").selectAll().where("id", "=", id).executeTakeFirst();

export const findCaseByRef = (db: Executor, ref: string) =>
  db.selectFrom("cases").selectAll().where("ref", "=", ref).executeTakeFirst();

export const findOpenCaseOf = (db: Executor, address: string) =>
  db
    .selectFrom("cases")
    .selectAll()
    .where("account_address", "=", address)
    .where("status", "=", "open")
    .orderBy("opened_at")
    .limit(1)
    .executeTakeFirst();

export const insertCaseEvent = (db: Executor, row: CaseEventsTable) =>
  db.insertInto("case_events").values(row).execute();

export const touchCase = (db: Executor, id: string, now: number) =>
  db.updateTable("cases").set({ updated_at: now }).where("id", "=", id).execute();

export const insertContact = (db: Executor, row: CaseContactsTable) =>
  db.insertInto("case_contacts").values(row).execute();

export const findContact = (db: Executor, caseId: string, email: string) =>
  db
    .selectFrom("case_contacts")
    .selectAll()
    .where("case_id", "=", caseId)
    .where("email", "=", email)
    .executeTakeFirst();

export const findContactById = (db: Executor, id: string) =>
  db.selectFrom("case_contacts").selectAll().where("id", "=", id).executeTakeFirst();

export const findContactByTokenHash = (db: Executor, tokenHash: string) =>
  db.selectFrom("case_contacts").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();

/** Contacts of a case, first one first. */
export const contactsOf = (db: Executor, caseId: string) =>
  db
    .selectFrom("case_contacts")
    .selectAll()
    .where("case_id", "=", caseId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();

/** What was written to one contact, oldest first. */
export const eventsForContact = (db: Executor, contactId: string) =>
  db
    .selectFrom("case_events")
    .selectAll()
    .where("contact_id", "=", contactId)
    .orderBy("at")
    .orderBy("id")
    .execute();

/** How many mails of one kind went to a contact since `since`. */
export async function mailsToContactSince(db: Executor, contactId: string, type: string, since: number) {
  const row = await db
    .selectFrom("case_events")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("contact_id", "=", contactId)
    .where("type", "=", type)
    .where("at", ">", since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
