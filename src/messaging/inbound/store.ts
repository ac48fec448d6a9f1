import type { Executor } from "../../db/database.js";

/**
 * Takes note of an inbound mail by its Message-ID. False when it was already taken in: an SMTP
 * client that retries after a timeout (our 250 lost on the way) must not add the mail twice.
 * Call it first in the transaction that stores the mail.
 */
export async function recordInbound(tx: Executor, messageId: string, now: number): Promise<boolean> {
  const result = await tx
    .insertInto("inbound_messages")
    .values({ message_id: messageId, received_at: now, case_id: null })
    .onConflict((oc) => oc.column("message_id").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** The case an inbound mail landed on (for the desk: a later mail whose In-Reply-To names it). */
export async function linkInbound(tx: Executor, messageId: string, caseId: string): Promise<void> {
  await tx
    .updateTable("inbound_messages")
    .set({ case_id: caseId })
    .where("message_id", "=", messageId)
    .execute();
}

/** The case of an inbound mail taken in earlier, by its Message-ID, or null. */
export async function caseOfInbound(db: Executor, messageId: string): Promise<string | null> {
  const row = await db
    .selectFrom("inbound_messages")
    .select("case_id")
    .where("message_id", "=", messageId)
    .executeTakeFirst();
  return row?.case_id ?? null;
}

/** Recipient of an email Sesame sent (an outbox row), lower-cased, or null. */
export async function outboxEmailRecipient(db: Executor, outboxId: string): Promise<string | null> {
  const row = await db
    .selectFrom("outbox")
    .select("recipient")
    .where("id", "=", outboxId)
    .where("channel", "=", "email")
    .executeTakeFirst();
  return row ? row.recipient.trim().toLowerCase() : null;
}

/** An operator's "this address works again": mail to it is sent from now on. */
export async function unsuppressAddress(tx: Executor, address: string): Promise<boolean> {
  const result = await tx
    .deleteFrom("mail_suppressions")
    .where("address", "=", address.trim().toLowerCase())
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Retention: forgets Message-IDs received before `before` (a retry comes within days, not weeks). */
export async function purgeInboundMessages(db: Executor, before: number): Promise<number> {
  const result = await db.deleteFrom("inbound_messages").where("received_at", "<", before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
