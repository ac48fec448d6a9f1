import type { Executor } from "../db/database.js";
import type { CaseEventsTable, CasesTable } from "../db/schema.js";

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

export const touchCase = (db: Executor, id: string, now: number, contactEmail: string | null) =>
  db
    .updateTable("cases")
    .set({ updated_at: now, contact_email: contactEmail })
    .where("id", "=", id)
    .execute();
