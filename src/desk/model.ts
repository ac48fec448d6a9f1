import type { CaseEventsTable, CasesTable } from "../db/schema.js";
import { randomBytes } from "../platform/random.js";

/** Timeline entry types of the JSON API (`GET /api/v1/cases/:ref`). */
export type TimelineType =
  | "created"
  | "message_in"
  | "message_out"
  | "note"
  | "call"
  | "recovery_attempt"
  | "contact_added"
  | "escalated"
  | "reassigned"
  | "sla_warning"
  | "sla_breached"
  | "waiting"
  | "resumed"
  | "resolved"
  | "reopened"
  | "auto_reply"
  | "bounce"
  | "survey_sent"
  | "survey_answered";

/** The per-tier deadlines of a case; the customer clock is apart (it never pauses). */
export const DEADLINES = ["firstResponse", "nextUpdate", "resolution"] as const;
export type Deadline = (typeof DEADLINES)[number];

export const deadlineColumn = {
  firstResponse: "due_first_response",
  nextUpdate: "due_next_update",
  resolution: "due_resolution",
} as const satisfies Record<Deadline, keyof CasesTable>;

/** Timer kinds of the desk; a timer's subject is the case id. */
export const TIMER = {
  breach: (d: Deadline) => `desk.breach.${d}`,
  warning: (d: Deadline) => `desk.warning.${d}`,
  customerClock: "desk.customer_clock",
  survey: "desk.survey",
} as const;

/** A warning when this share of a deadline's business time has run. */
export const WARNING_SHARE = 0.75;

/**
 * The queue orders open cases by their nearest deadline; a case with none sorts last. The largest
 * instant a Date holds stands for "none", so one index serves both databases (whose NULL orders differ).
 */
export const NO_DEADLINE = 8_640_000_000_000_000;

export type CaseRow = CasesTable;
export type CaseEventRow = CaseEventsTable;

export const dueOf = (row: CaseRow): Partial<Record<Deadline, number>> => {
  const due: Partial<Record<Deadline, number>> = {};
  for (const d of DEADLINES) {
    const value = row[deadlineColumn[d]];
    if (value !== null && value !== undefined) due[d] = Number(value);
  }
  return due;
};

/** The nearest of the deadlines, or NO_DEADLINE. */
export const nearest = (due: Partial<Record<Deadline, number | null>>): number =>
  Math.min(NO_DEADLINE, ...Object.values(due).filter((v): v is number => typeof v === "number"));

/** Older rows wrote dotted event types; the API speaks the timeline words. */
const LEGACY_TYPES: Record<string, TimelineType> = {
  "case.opened": "created",
  "case.contact_again": "recovery_attempt",
  "case.mail_to_contact": "message_out",
  "case.contact_added_notice": "message_out",
};

export const timelineType = (stored: string): string => LEGACY_TYPES[stored] ?? stored;

/** A case reference as people type it: upper-cased, spaces trimmed. */
export const CASE_REF = /^SES-[A-Z0-9]{4}-[A-Z0-9]{4}$/;
export const normaliseRef = (ref: string) => ref.trim().toUpperCase();

const processMark = Date.now().toString(36).padStart(9, "0");
let eventSeq = 0;

/**
 * Ids of timeline events sort in the order this node wrote them: events of one instant (a case
 * opened, its message, its acknowledgement) keep their order on the timeline.
 */
export const newEventId = (): string =>
  `ev${processMark}${(eventSeq++).toString(36).padStart(8, "0")}${randomBytes(6).toString("hex")}`;
