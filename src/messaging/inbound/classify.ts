import { createHash } from "node:crypto";
import type { AddressObject, ParsedMail } from "mailparser";
import type { Secrets } from "../../platform/secrets.js";
import { CASE_REF_PATTERN, isCaseRef, outboxIdFromMessageId, refFromSignedId } from "./message-ids.js";

/** The SMTP envelope of one delivery, as the listener saw it. */
export interface Envelope {
  /** MAIL FROM, lower-cased; "" for the null sender `<>` (bounces, most auto-replies). */
  mailFrom: string;
  /** RCPT TO, as given. */
  rcptTo: string[];
  /** SHA-256 (hex) of the raw message: the id of a mail that has no usable Message-ID. */
  rawSha256: string;
}

export interface BounceFailure {
  address: string;
  /** DSN status, e.g. "5.1.1". */
  status: string;
  permanent: boolean;
}

export interface BounceInfo {
  /** Recipients the report says failed (lower-cased). */
  recipients: string[];
  /** True when at least one of them failed permanently (status 5.x.x). */
  permanent: boolean;
  failures: BounceFailure[];
  /** Message-ID of the mail that bounced, from the headers the report returns. */
  originalMessageId?: string;
  /** Outbox row of that mail (X-Sesame-Message, or read from its Message-ID). */
  outboxId?: string;
}

export interface InboundMail {
  /** With angle brackets; synthesised from the content when the mail has none (or an absurd one). */
  messageId: string;
  /** Lower-cased address of From. */
  from: string;
  fromName: string;
  /** Lower-cased MAIL FROM; "" for `<>`. */
  envelopeFrom: string;
  /** RCPT TO, lower-cased. */
  recipients: string[];
  subject: string;
  /** Plain text (HTML converted), at most MAX_TEXT characters. */
  text: string;
  inReplyTo: string | null;
  references: string[];
  kind: "human" | "auto_reply" | "bounce";
  bounce?: BounceInfo;
  /** Case reference in a recipient's local part: team+SES-ABCD-2345@domain. */
  plusRef?: string;
  /** Case reference in the subject, bracketed or bare. */
  subjectRef?: string;
  /** Case reference of a Message-ID Sesame signed, named in In-Reply-To or References (verified). */
  signedRef?: string;
}

/** Mail Sesame cannot take in; the listener answers it with a permanent SMTP error. */
export class MalformedMailError extends Error {
  constructor(
    message: string,
    readonly responseCode = 550,
  ) {
    super(message);
    this.name = "MalformedMailError";
  }
}

export const MAX_TEXT = 64 * 1024;
const MAX_ID = 250;
const REF_ANYWHERE = new RegExp(`(?<![A-Z0-9])(${CASE_REF_PATTERN})(?![A-Z0-9])`, "i");
const PLUS_REF = new RegExp(`\\+(${CASE_REF_PATTERN})@`, "i");

const upperRef = (value: string | undefined): string | undefined => {
  const ref = value?.toUpperCase();
  return ref !== undefined && isCaseRef(ref) ? ref : undefined;
};

/** Header lines as `name -> raw values` (lower-case names, unfolded). */
const rawHeaders = (parsed: ParsedMail): Map<string, string[]> => {
  const map = new Map<string, string[]>();
  for (const { key, line } of parsed.headerLines ?? []) {
    const colon = line.indexOf(":");
    const value = (colon < 0 ? "" : line.slice(colon + 1)).replace(/\r?\n[ \t]+/g, " ").trim();
    map.set(key.toLowerCase(), [...(map.get(key.toLowerCase()) ?? []), value]);
  }
  return map;
};

/** `<a@b> <c@d>` -> ["<a@b>", "<c@d>"]. */
export const messageIdsIn = (value: string | string[] | undefined | null): string[] => {
  const text = Array.isArray(value) ? value.join(" ") : (value ?? "");
  return [...text.matchAll(/<[^<>\s]+>/g)].map((m) => m[0]).filter((id) => id.length <= MAX_ID + 2);
};

const firstAddress = (value: AddressObject | AddressObject[] | undefined) => {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  for (const group of list)
    for (const entry of group.value) {
      if (entry.address && /^[^@\s]+@[^@\s]+$/.test(entry.address)) return entry;
      for (const member of entry.group ?? [])
        if (member.address && /^[^@\s]+@[^@\s]+$/.test(member.address)) return member;
    }
  return null;
};

/** RFC 3834 and the usual vendor markers: mail a program sent, which must never be answered. */
export function isAutomatic(headers: Map<string, string[]>): boolean {
  const first = (name: string) => headers.get(name)?.[0]?.toLowerCase().trim();
  const autoSubmitted = first("auto-submitted");
  if (autoSubmitted !== undefined && autoSubmitted.split(";")[0]!.trim() !== "no") return true;
  if (headers.has("x-autoreply") || headers.has("x-autorespond")) return true;
  const precedence = first("precedence");
  if (precedence !== undefined && ["bulk", "junk", "list"].includes(precedence)) return true;
  return headers.has("list-id") || headers.has("list-unsubscribe");
}

/**
 * The per-recipient fields of a delivery-status report (RFC 3464): blocks separated by blank
 * lines, each naming a Final-Recipient with its Action and Status.
 */
export function parseDeliveryStatus(text: string): BounceFailure[] {
  const failures: BounceFailure[] = [];
  for (const block of text.replace(/\r\n/g, "\n").split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.replace(/\n[ \t]+/g, " ").split("\n")) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim());
      if (match) fields.set(match[1]!.toLowerCase(), match[2]!.trim());
    }
    const recipient = fields.get("final-recipient") ?? fields.get("original-recipient");
    if (recipient === undefined) continue;
    const address = (recipient.includes(";") ? recipient.slice(recipient.indexOf(";") + 1) : recipient)
      .trim()
      .replace(/^<|>$/g, "")
      .toLowerCase();
    const status = /\b([245])\.\d{1,3}\.\d{1,3}\b/.exec(fields.get("status") ?? "")?.[0] ?? "";
    const action = (fields.get("action") ?? "").toLowerCase();
    const failed = action === "failed" || (action === "" && /^[45]/.test(status));
    if (!failed || !address.includes("@")) continue;
    failures.push({
      address,
      status,
      permanent: status.startsWith("5") || (action === "failed" && status === ""),
    });
  }
  return failures;
}

/** The Message-ID and X-Sesame-Message of the mail a report returns (its headers, or whole). */
function originalOf(parsed: ParsedMail): Pick<BounceInfo, "originalMessageId" | "outboxId"> {
  for (const attachment of parsed.attachments ?? []) {
    const type = attachment.contentType.toLowerCase();
    if (!["text/rfc822-headers", "message/rfc822", "message/rfc822-headers"].includes(type)) continue;
    const head =
      attachment.content
        .subarray(0, 64 * 1024)
        .toString("utf8")
        .split(/\r?\n\r?\n/)[0] ?? "";
    const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
    const messageId = messageIdsIn(/^message-id:(.*)$/im.exec(unfolded)?.[1])[0];
    const sesame = /^x-sesame-message:\s*([0-9a-f-]{36})\s*$/im.exec(unfolded)?.[1]?.toLowerCase();
    const outboxId = sesame ?? (messageId ? outboxIdFromMessageId(messageId) : null);
    return {
      ...(messageId ? { originalMessageId: messageId } : {}),
      ...(outboxId ? { outboxId } : {}),
    };
  }
  return {};
}

const stableId = (messageId: string | undefined, rawSha256: string): string => {
  const id = messageId?.trim();
  if (id && id.length <= MAX_ID && /^<[^<>\s]+>$/.test(id)) return id;
  if (id && /^[^<>\s]+@[^<>\s]+$/.test(id) && id.length <= MAX_ID) return `<${id}>`;
  // None, or too long for an index: a digest of what we have, the same on every retry.
  const basis = id ? createHash("sha256").update(id).digest("hex") : rawSha256;
  return `<${basis}@no-message-id.sesame>`;
};

/**
 * What Sesame needs of one received mail: who, to which team, about which case, and whether a
 * person wrote it. Pure: no I/O, no clock. Throws MalformedMailError for mail that cannot be taken in.
 */
export function classifyMail(parsed: ParsedMail, envelope: Envelope, secrets: Secrets): InboundMail {
  const sender = firstAddress(parsed.from);
  if (sender === null) throw new MalformedMailError("5.6.0 Message has no valid From address");
  const headers = rawHeaders(parsed);

  const recipients = envelope.rcptTo.map((r) => r.trim().toLowerCase());
  const envelopeFrom = envelope.mailFrom.trim().toLowerCase();
  const inReplyTo = messageIdsIn(parsed.inReplyTo)[0] ?? null;
  const references = messageIdsIn(parsed.references);

  const contentType = parsed.headers.get("content-type") as
    | { value?: string; params?: Record<string, string> }
    | undefined;
  const anyReport = contentType?.value?.toLowerCase() === "multipart/report";
  const isReport = anyReport && contentType?.params?.["report-type"]?.toLowerCase() === "delivery-status";
  const nullSender = envelopeFrom === "" || headers.get("return-path")?.some((v) => /^<\s*>$/.test(v));

  let kind: InboundMail["kind"] = "human";
  let bounce: BounceInfo | undefined;
  if (isReport || (nullSender && !isAutomatic(headers))) {
    kind = "bounce";
    const statusText = [
      parsed.text ?? "",
      ...(parsed.attachments ?? [])
        .filter((a) => a.contentType.toLowerCase() === "message/delivery-status")
        .map((a) => a.content.subarray(0, 64 * 1024).toString("utf8")),
    ].join("\n\n");
    const failures = isReport ? parseDeliveryStatus(statusText) : [];
    bounce = {
      recipients: [...new Set(failures.map((f) => f.address))],
      permanent: failures.some((f) => f.permanent),
      failures,
      ...(isReport ? originalOf(parsed) : {}),
    };
  } else if (nullSender || anyReport || isAutomatic(headers)) {
    // anyReport: a read receipt (disposition-notification) or another machine report.
    kind = "auto_reply";
  }

  const text = (parsed.text ?? "").slice(0, MAX_TEXT);
  const subject = (parsed.subject ?? "").replace(/[\r\n]+/g, " ").slice(0, 998);
  const plusRef = recipients.map((r) => upperRef(PLUS_REF.exec(r)?.[1])).find(Boolean);
  const subjectRef = upperRef(REF_ANYWHERE.exec(subject)?.[1]);
  const signedRef = [...(inReplyTo ? [inReplyTo] : []), ...references.toReversed()]
    .map((id) => refFromSignedId(secrets, id))
    .find((ref): ref is string => ref !== null);

  return {
    messageId: stableId(parsed.messageId, envelope.rawSha256),
    from: sender.address!.toLowerCase(),
    fromName: (sender.name ?? "").slice(0, 200),
    envelopeFrom,
    recipients,
    subject,
    text,
    inReplyTo,
    references,
    kind,
    ...(bounce ? { bounce } : {}),
    ...(plusRef ? { plusRef } : {}),
    ...(subjectRef ? { subjectRef } : {}),
    ...(signedRef ? { signedRef } : {}),
  };
}

const NEVER_ANSWER =
  /^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|owner-.*|.*-request|.*-owner|bounces?(\+.*)?)$/;

/**
 * May Sesame send this mail an acknowledgement (RFC 3834 section 2)? Only a person's mail, with a
 * return path, from an address that is not a mail system or a list; the desk adds the per-sender
 * and per-case caps.
 */
export function mayAutoAnswer(mail: InboundMail): boolean {
  if (mail.kind !== "human" || mail.envelopeFrom === "") return false;
  return ![mail.from, mail.envelopeFrom].some((address) => NEVER_ANSWER.test(address.split("@")[0] ?? ""));
}
