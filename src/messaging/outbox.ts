import { sql } from "kysely";
import type { Db, Dialect, Executor, Tx } from "../db/database.js";
import { prepared, preparedInsert } from "../db/prepared.js";
import type { OutboxTable } from "../db/schema.js";
import type { Clock } from "../platform/clock.js";
import { newId } from "../platform/ids.js";
import type { Secrets } from "../platform/secrets.js";
import { isStoredCodeMessage, openCodeMessage, storedCodeMessage } from "./code-message.js";
import { signedLocalPart } from "./inbound/message-ids.js";

/** Threading and loop-protection headers of an outgoing mail (RFC 5322, RFC 3834). */
export interface MailHeaders {
  /** Verbatim, with its angle brackets; by default a signed id (caseRef) or the outbox row's own. */
  messageId?: string;
  inReplyTo?: string;
  references?: string[];
  /** Where replies go, e.g. plusAddress("support@x.example", ref). */
  replyTo?: string;
  /** Every mail Sesame sends is auto-generated (RFC 3834); acknowledgements of a mail are auto-replied. */
  autoSubmitted?: "auto-generated" | "auto-replied";
}

/** As stored in outbox.headers (JSON): the headers, and the signed local part of a case's Message-ID. */
export interface StoredHeaders extends MailHeaders {
  signedLocal?: string;
}

export interface OutgoingMessage {
  channel: "email" | "sms";
  recipient: string;
  subject?: string;
  body: string;
  /**
   * The one-time code the body carries, as the markers of code-message.ts: filled in when it is
   * sent, and the message is dropped if that code is voided or used first.
   */
  codeId?: string;
  /** Email only: headers beyond From/To/Subject. */
  headers?: MailHeaders;
  /**
   * Email only: the case the mail is about. Its Message-ID is then signed (see message-ids.ts), so
   * a reply whose In-Reply-To names it lands on the case whoever sends it.
   */
  caseRef?: string;
}

/** `team+SES-ABCD-2345@domain`: a reply-to address that carries the case reference. */
export const plusAddress = (address: string, ref: string): string => {
  const at = address.lastIndexOf("@");
  return at < 0 ? address : `${address.slice(0, at)}+${ref}${address.slice(at)}`;
};

/** Addresses are compared lower-cased: mail systems treat them so in practice. */
export const normaliseAddress = (address: string): string => address.trim().toLowerCase();

/** Never mail `address` again (a permanent bounce). Kept at the first reason. */
export async function suppressAddress(tx: Executor, address: string, reason: string, now: number) {
  await tx
    .insertInto("mail_suppressions")
    .values({ address: normaliseAddress(address), reason: reason.slice(0, 200), at: now })
    .onConflict((oc) => oc.column("address").doNothing())
    .execute();
}

const suppression = prepared((db: Executor, address: string) =>
  db.selectFrom("mail_suppressions").select("address").where("address", "=", address),
);

export async function isSuppressed(db: Executor, address: string): Promise<boolean> {
  return (await suppression(db, normaliseAddress(address))).rows.length > 0;
}

const insertOutbox = preparedInsert("outbox", [
  "id",
  "channel",
  "recipient",
  "subject",
  "body",
  "status",
  "attempts",
  "next_attempt_at",
  "claimed_until",
  "last_error",
  "created_at",
  "sent_at",
  "code_id",
  "headers",
]);

const storedHeaders = (secrets: Secrets, id: string, message: OutgoingMessage): string | null => {
  if (message.channel !== "email") return null;
  const stored: StoredHeaders = { ...message.headers };
  // The nonce is the row id: a re-send is the same message, and a bounce names the row it answers.
  if (message.caseRef && !stored.messageId)
    stored.signedLocal = signedLocalPart(secrets, message.caseRef, id.replaceAll("-", ""));
  return JSON.stringify(stored);
};

export type OutboxRow = OutboxTable;

/**
 * The body as stored: sealed (AES-GCM), since it may say what only its recipient should read; a code's
 * message holds no code (see code-message.ts) and is kept under a MAC instead.
 */
const storedBody = (secrets: Secrets, id: string, message: OutgoingMessage): string =>
  message.codeId === undefined
    ? secrets.seal(message.body)
    : storedCodeMessage(
        secrets,
        {
          id,
          codeId: message.codeId,
          channel: message.channel,
          recipient: message.recipient,
          subject: message.subject ?? null,
        },
        message.body,
      );

/** The text of a stored body; throws if it does not open, or was changed since it was queued. */
export function openBody(secrets: Secrets, row: OutboxRow): string {
  if (row.code_id === null || !isStoredCodeMessage(row.body)) return secrets.unseal(row.body);
  const { id, code_id: codeId, channel, recipient, subject } = row;
  return openCodeMessage(secrets, { id, codeId, channel, recipient, subject }, row.body);
}

/**
 * Queued in the caller's transaction: the message exists if and only if the change committed.
 * Returns the outbox row's id.
 */
export async function enqueueMessage(
  tx: Tx,
  now: number,
  secrets: Secrets,
  message: OutgoingMessage,
): Promise<string> {
  const id = newId();
  // An address that bounced permanently gets nothing: the row says so, and holds no body.
  const suppressed = message.channel === "email" && (await isSuppressed(tx, message.recipient));
  await insertOutbox(tx, {
    id,
    channel: message.channel,
    recipient: message.recipient,
    subject: message.subject ?? null,
    body: suppressed ? "" : storedBody(secrets, id, message),
    status: suppressed ? "voided" : "pending",
    attempts: 0,
    next_attempt_at: now,
    claimed_until: null,
    last_error: suppressed ? "suppressed" : null,
    created_at: now,
    sent_at: null,
    code_id: message.codeId ?? null,
    headers: storedHeaders(secrets, id, message),
  });
  return id;
}

/**
 * The work of queuing `message` without queuing it: its body is made as a real one's and a row
 * written that is never sent (status voided, no body, no recipient). A request to a destination
 * that is not a verified backup does this, so its timing cannot tell a right backup from a wrong one.
 */
export async function enqueueDecoy(tx: Tx, now: number, secrets: Secrets, message: OutgoingMessage) {
  const id = newId();
  storedBody(secrets, id, message);
  // The same look-up as a real mail's (for an address that is never suppressed), so both cost alike.
  if (message.channel === "email") await isSuppressed(tx, message.recipient);
  await insertOutbox(tx, {
    id,
    channel: message.channel,
    recipient: "",
    subject: null,
    body: "",
    status: "voided",
    attempts: 0,
    next_attempt_at: now,
    claimed_until: null,
    last_error: null,
    created_at: now,
    sent_at: null,
    code_id: null,
    headers: null,
  });
}

export const CLAIM_MS = 60_000;
export const MAX_ATTEMPTS = 8;
/** Messages claimed at most by one claim: fewer means the outbox had no more due then. */
export const OUTBOX_BATCH = 20;

/**
 * Claims due messages so that, with several nodes, each is sent by one of them: on PostgreSQL the
 * rows are picked FOR UPDATE SKIP LOCKED; on SQLite the single writer gives the same guarantee. One
 * statement, which needs no transaction of its own (it was four round trips on PostgreSQL: begin,
 * select, update, commit). Oldest first.
 */
export async function claimDueMessages(db: Executor, dialect: Dialect, clock: Clock): Promise<OutboxRow[]> {
  const now = clock.now();
  const claim = dialect === "postgres" ? claimSkippingLocked : claimOnSqlite;
  const { rows } = await claim(db, now, now + CLAIM_MS);
  // RETURNING keeps no order.
  return rows.sort((a, b) => Number(a.next_attempt_at) - Number(b.next_attempt_at));
}

// Prepared: the dispatcher claims after every commit that queued a mail (1.6% of a code request's time
// went into building this statement anew each time).
const claimDue = (skipLocked: boolean) =>
  prepared((db: Executor, now: number, claimedUntil: number) => {
    let due = db
      .selectFrom("outbox")
      .select("id")
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .where((eb) => eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<", now)]))
      .orderBy("next_attempt_at")
      .limit(sql.lit(OUTBOX_BATCH));
    if (skipLocked) due = due.modifyEnd(sql`for update skip locked`);
    return db
      .updateTable("outbox")
      .set({ claimed_until: claimedUntil })
      .where("id", "in", due)
      .returningAll();
  });
const claimOnSqlite = claimDue(false);
const claimSkippingLocked = claimDue(true);

const markSentKeepingBody = prepared((db: Executor, id: string, now: number) =>
  db
    .updateTable("outbox")
    .set({ status: "sent", sent_at: now, claimed_until: null, attempts: sql`attempts + 1` })
    .where("id", "=", id),
);
const markSentForgettingBody = prepared((db: Executor, id: string, now: number) =>
  db
    .updateTable("outbox")
    .set({ status: "sent", sent_at: now, claimed_until: null, attempts: sql`attempts + 1`, body: "" })
    .where("id", "=", id),
);

/**
 * Delivered. A message that really left (not one kept for the development mailbox) loses its body:
 * a code has no business staying in the database once it is on its way.
 */
export async function markSent(db: Executor, id: string, now: number, forgetBody: boolean): Promise<void> {
  await (forgetBody ? markSentForgettingBody : markSentKeepingBody)(db, id, now);
}

/**
 * Retries with exponential backoff (30 s, 1 min, 2 min, ...); gives up after MAX_ATTEMPTS, and a
 * message given up on forgets its body like a sent one.
 */
export async function markFailed(db: Executor, row: OutboxRow, now: number, error: string): Promise<void> {
  const attempts = row.attempts + 1;
  const givenUp = attempts >= MAX_ATTEMPTS;
  await db
    .updateTable("outbox")
    .set({
      status: givenUp ? "failed" : "pending",
      attempts,
      next_attempt_at: now + 30_000 * 2 ** (attempts - 1),
      claimed_until: null,
      last_error: error.slice(0, 500),
      ...(givenUp ? { body: "" } : {}),
    })
    .where("id", "=", row.id)
    .execute();
}

const settleUnsent = prepared((db: Executor, id: string, status: "failed" | "voided", reason: string) =>
  db
    .updateTable("outbox")
    .set({ status, body: "", claimed_until: null, last_error: reason })
    .where("id", "=", id),
);

/** Never to be sent (a body that does not open, or a code no longer live): settled at once, body forgotten. */
export async function markNotSent(
  db: Executor,
  id: string,
  status: "failed" | "voided",
  reason: string,
): Promise<void> {
  await settleUnsent(db, id, status, reason);
}

const codeState = prepared((db: Executor, codeId: string) =>
  db.selectFrom("recovery_codes").select(["voided_at", "used_at"]).where("id", "=", codeId),
);

/** False once the code a message carries was voided (a newer code) or used: sending it would only confuse. */
export async function codeStillLive(db: Executor, codeId: string): Promise<boolean> {
  const [code] = (await codeState(db, codeId)).rows;
  return code !== undefined && code.voided_at === null && code.used_at === null;
}

/** Latest messages with their bodies opened, for the development mailbox. */
export async function recentMessages(
  db: Db,
  secrets: Secrets,
  channels: Array<"email" | "sms">,
  limit = 100,
): Promise<OutboxRow[]> {
  if (channels.length === 0) return [];
  const rows = await db
    .selectFrom("outbox")
    .selectAll()
    .where("channel", "in", channels)
    // Voided, given-up and tampered messages have lost their body: nothing to show.
    .where("body", "!=", "")
    .orderBy("created_at", "desc")
    .limit(limit)
    .execute();
  return rows.map((row) => ({ ...row, body: openBody(secrets, row) }));
}
