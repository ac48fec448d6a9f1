import { sql } from "kysely";
import type { Executor } from "../db/database.js";
import { prepared, preparedInsert } from "../db/prepared.js";
import type { CaseContactsTable, CaseEventsTable, CasesTable } from "../db/schema.js";
import type { CaseSurveysTable } from "./schema.js";

// Every column, checked by the compiler: a column added to the table and not here fails to build.
const caseColumnSet: Record<keyof CasesTable, null> = {
  id: null,
  ref: null,
  account_id: null,
  account_address: null,
  contact_email: null,
  locale: null,
  status: null,
  source: null,
  first_attempt_at: null,
  opened_at: null,
  updated_at: null,
  language: null,
  country: null,
  tier: null,
  team: null,
  priority: null,
  subject: null,
  contact_phone: null,
  tier_since: null,
  first_response_at: null,
  due_first_response: null,
  due_next_update: null,
  due_resolution: null,
  next_due: null,
  paused_at: null,
  resolved_at: null,
};
const insertCaseRow = preparedInsert("cases", Object.keys(caseColumnSet) as (keyof CasesTable)[], "ref");

/** False, and nothing written, when the case's reference is taken already. */
export const insertCase = async (db: Executor, row: CasesTable) =>
  (await insertCaseRow(db, row)).numAffectedRows === 1n;

const caseById = prepared((db: Executor, id: string) =>
  db.selectFrom("cases").selectAll().where("id", "=", id),
);

export const findCaseById = async (db: Executor, id: string) => (await caseById(db, id)).rows[0];

export const findCaseByRef = (db: Executor, ref: string) =>
  db.selectFrom("cases").selectAll().where("ref", "=", ref).executeTakeFirst();

/** The unresolved cases of an address (the literal status is what lets the partial index serve it). */
const openCasesOf = (db: Executor, address: string) =>
  db
    .selectFrom("cases")
    .where("account_address", "=", address)
    .where("status", "<>", sql.lit("resolved"))
    .orderBy("opened_at")
    .limit(sql.lit(1));

export const findOpenCaseOf = (db: Executor, address: string) =>
  openCasesOf(db, address).selectAll().executeTakeFirst();

const insertOnOpenCase = prepared(
  (db: Executor, address: string, id: string, at: number, type: string, actor: string, detail: string) =>
    db
      .insertInto("case_events")
      .columns(["id", "case_id", "at", "type", "actor", "detail"])
      .expression(
        // Cast: PostgreSQL cannot tell a parameter's type from a select list.
        openCasesOf(db, address).select((eb) => [
          eb.cast<string>(eb.val(id), "text").as("id"),
          "id as case_id",
          eb.cast<number>(eb.val(at), "bigint").as("at"),
          eb.cast<string>(eb.val(type), "text").as("type"),
          eb.cast<string>(eb.val(actor), "text").as("actor"),
          eb.cast<string>(eb.val(detail), "text").as("detail"),
        ]),
      ),
);

/** Adds an event to the address's open case, if it has one, in one statement (one index step when none). */
export const insertEventOnOpenCase = (
  db: Executor,
  address: string,
  event: Pick<CaseEventsTable, "id" | "at" | "type" | "actor" | "detail">,
) => insertOnOpenCase(db, address, event.id, event.at, event.type, event.actor, event.detail);

const insertEventRow = preparedInsert("case_events", [
  "id",
  "case_id",
  "at",
  "type",
  "actor",
  "detail",
  "contact_id",
]);

export const insertCaseEvent = (db: Executor, row: CaseEventsTable) =>
  insertEventRow(db, { ...row, contact_id: row.contact_id ?? null });

export const touchCase = (db: Executor, id: string, now: number) =>
  db.updateTable("cases").set({ updated_at: now }).where("id", "=", id).execute();

const insertContactRow = preparedInsert("case_contacts", [
  "id",
  "case_id",
  "email",
  "via",
  "verified",
  "token_hash",
  "token_sealed",
  "created_at",
]);

export const insertContact = (db: Executor, row: CaseContactsTable) => insertContactRow(db, row);

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

export const updateCase = (db: Executor, id: string, changes: Partial<CasesTable>) =>
  db.updateTable("cases").set(changes).where("id", "=", id).execute();

/** The open (or waiting) case a caller's number is on, newest first. */
export const findOpenCaseByPhone = (db: Executor, phone: string) =>
  db
    .selectFrom("cases")
    .selectAll()
    .where("contact_phone", "=", phone)
    .where("status", "!=", "resolved")
    .orderBy("opened_at", "desc")
    .limit(sql.lit(1))
    .executeTakeFirst();

/**
 * What a queue shows of a case (the API's summary, the console's list). Only these: better-sqlite3
 * builds each row as an object, property by property, and the 28 columns of 100 cases were half
 * the cost of a queue read.
 */
const QUEUE_COLUMNS = [
  "id",
  "ref",
  "status",
  "tier",
  "team",
  "language",
  "country",
  "subject",
  "first_attempt_at",
  "next_due",
  "due_first_response",
  "due_next_update",
  "due_resolution",
] as const;

const queueWithStatus = prepared((db: Executor, team: string, status: "open" | "waiting", limit: number) =>
  db
    .selectFrom("cases")
    .select(QUEUE_COLUMNS)
    .where("team", "=", team)
    .where("status", "=", status)
    .orderBy("next_due")
    .orderBy("id")
    .limit(limit),
);

/** Open cases of a team, nearest deadline first, then those waiting on the customer. */
export async function queueOf(db: Executor, team: string, limit: number) {
  const { rows: open } = await queueWithStatus(db, team, "open", limit);
  if (open.length >= limit) return open;
  const { rows: waiting } = await queueWithStatus(db, team, "waiting", limit - open.length);
  return [...open, ...waiting];
}

export const eventsOf = (db: Executor, caseId: string) =>
  db
    .selectFrom("case_events")
    .selectAll()
    .where("case_id", "=", caseId)
    .orderBy("at")
    .orderBy("id")
    .execute();

/**
 * Cases whose address, contact address or number is `term`, newest first (agent search); only those
 * of `teams` when given (before the limit, so other teams' cases do not push an agent's own out).
 */
export async function searchCases(db: Executor, term: string, limit: number, teams?: readonly string[]) {
  const byContact = db.selectFrom("case_contacts").select("case_id").where("email", "=", term);
  if (teams?.length === 0) return [];
  return db
    .selectFrom("cases")
    .selectAll()
    .$if(teams !== undefined, (qb) => qb.where("team", "in", teams as string[]))
    .where((eb) =>
      eb.or([
        eb("ref", "=", term.toUpperCase()),
        eb("account_address", "=", term),
        eb("contact_email", "=", term),
        eb("contact_phone", "=", term),
        eb("id", "in", byContact),
      ]),
    )
    .orderBy("opened_at", "desc")
    .limit(limit)
    .execute();
}

export const insertSurvey = (db: Executor, row: CaseSurveysTable) =>
  db.insertInto("case_surveys").values(row).execute();

export const findSurveyByTokenHash = (db: Executor, tokenHash: string) =>
  db.selectFrom("case_surveys").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();

export const surveyOfCase = (db: Executor, caseId: string) =>
  db.selectFrom("case_surveys").selectAll().where("case_id", "=", caseId).executeTakeFirst();

/** Records an answer once: false when the survey was answered (or voided) already. */
export async function answerSurvey(
  db: Executor,
  id: string,
  answer: { score: number; comment: string | null; at: number },
): Promise<boolean> {
  const result = await db
    .updateTable("case_surveys")
    .set({ score: answer.score, comment: answer.comment, answered_at: answer.at })
    .where("id", "=", id)
    .where("answered_at", "is", null)
    .where("voided_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
