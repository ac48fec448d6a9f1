import type { Tx } from "../../db/database.js";
import { auditSubject, type Platform } from "../../platform/context.js";
import { suppressAddress } from "../outbox.js";
import type { InboundMail } from "./classify.js";
import { outboxEmailRecipient } from "./store.js";

/**
 * A permanent bounce stops mail to the address that failed, in the caller's transaction, audited.
 * Only a report about a mail Sesame really sent to that address counts (the returned headers name
 * the outbox row): anyone can forge a bounce, and a forged one must not silence someone's recovery
 * mail. Returns the addresses suppressed.
 */
export async function applyBounce(platform: Platform, tx: Tx, mail: InboundMail): Promise<string[]> {
  if (mail.kind !== "bounce" || !mail.bounce?.outboxId) return [];
  const sentTo = await outboxEmailRecipient(tx, mail.bounce.outboxId);
  if (sentTo === null) return [];
  const suppressed: string[] = [];
  for (const failure of mail.bounce.failures) {
    if (!failure.permanent || failure.address !== sentTo) continue;
    await suppressAddress(tx, failure.address, `bounce ${failure.status}`.trim(), platform.clock.now());
    await auditSubject(
      platform,
      tx,
      { accountId: null, address: failure.address },
      { type: "mail_suppressed", actor: "mail", detail: { status: failure.status } },
    );
    suppressed.push(failure.address);
  }
  return suppressed;
}
