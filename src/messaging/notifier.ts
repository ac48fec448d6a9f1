import type { Tx } from "../db/database.js";
import type { Platform } from "../platform/context.js";
import { enqueueDecoy, enqueueMessage, type OutgoingMessage } from "./outbox.js";

/** Where a notice goes: an email address gets a mail, a phone number an SMS. */
export interface Destination {
  kind: "email" | "phone";
  value: string;
}

export interface Notice {
  to: Destination;
  /** The mail's subject (an SMS has none). */
  subject: string;
  /** The mail's body; also the SMS's unless `sms` is given. */
  body: string;
  /** The SMS's text when it differs from the mail's (a short form, without the mail's link). */
  sms?: string;
  /** The one-time code the notice carries: it is dropped if that code is voided or used first. */
  codeId?: string;
  /**
   * The work of queuing it without queuing it (see enqueueDecoy): for a destination that must not
   * receive anything, so the request costs what a real one costs.
   */
  decoy?: boolean;
}

/** The outbox message of a notice: the channel follows the destination. */
export function messageOf(notice: Notice): OutgoingMessage {
  const { to, codeId } = notice;
  const common = { recipient: to.value, ...(codeId !== undefined ? { codeId } : {}) };
  return to.kind === "email"
    ? { channel: "email", subject: notice.subject, body: notice.body, ...common }
    : { channel: "sms", body: notice.sms ?? notice.body, ...common };
}

/**
 * Queues one notice in the caller's transaction (it is sent if and only if the change commits), by
 * mail or SMS as its destination says; a decoy writes the never-sent row instead. The caller wakes
 * the outbox after the commit.
 */
export async function notify(
  tx: Tx,
  platform: Pick<Platform, "clock" | "secrets">,
  notice: Notice,
): Promise<void> {
  const enqueue = notice.decoy ? enqueueDecoy : enqueueMessage;
  await enqueue(tx, platform.clock.now(), platform.secrets, messageOf(notice));
}
