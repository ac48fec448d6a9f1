import { lockKey, type Tx } from "../db/database.js";
import { auditAccount, type Platform } from "../platform/context.js";
import { newCaseRef, newId } from "../platform/ids.js";
import * as store from "./store.js";

export interface CaseOpening {
  accountId: string | null;
  accountAddress: string;
  contactEmail: string | null;
  locale: string;
  source: string;
  /** When the person first tried: the start of the customer clock. */
  firstAttemptAt: number;
  actor: string;
  detail?: Record<string, unknown>;
}

export interface CaseSummary {
  id: string;
  ref: string;
  firstAttemptAt: number;
  created: boolean;
  /** The person gave another contact address than the case had. */
  contactChanged: boolean;
}

/**
 * Cases are the single record of one person's problem. The support desk (tiers, SLA, escalation)
 * builds on this; here a case is opened or joined, never duplicated for the same open problem.
 */
export class CasesService {
  constructor(private readonly platform: Platform) {}

  /** Opens a case for this address, or adds to the one already open: one problem, one reference. */
  async openOrJoin(tx: Tx, opening: CaseOpening): Promise<CaseSummary> {
    const now = this.platform.clock.now();
    // Two attempts racing must not open two cases for one problem.
    await lockKey(tx, this.platform.dialect, `cases:${opening.accountAddress}`);
    const existing = await store.findOpenCaseOf(tx, opening.accountAddress);
    if (existing) {
      await store.insertCaseEvent(tx, {
        id: newId(),
        case_id: existing.id,
        at: now,
        type: "case.contact_again",
        actor: opening.actor,
        detail: JSON.stringify({
          source: opening.source,
          contactEmail: opening.contactEmail,
          ...opening.detail,
        }),
      });
      const contactChanged = opening.contactEmail !== null && opening.contactEmail !== existing.contact_email;
      await store.touchCase(
        tx,
        existing.id,
        now,
        contactChanged ? opening.contactEmail : existing.contact_email,
      );
      return {
        id: existing.id,
        ref: existing.ref,
        firstAttemptAt: Number(existing.first_attempt_at),
        created: false,
        contactChanged,
      };
    }
    const id = newId();
    let ref = newCaseRef();
    while (await store.findCaseByRef(tx, ref)) ref = newCaseRef();
    await store.insertCase(tx, {
      id,
      ref,
      account_id: opening.accountId,
      account_address: opening.accountAddress,
      contact_email: opening.contactEmail,
      locale: opening.locale,
      status: "open",
      source: opening.source,
      first_attempt_at: opening.firstAttemptAt,
      opened_at: now,
      updated_at: now,
    });
    await store.insertCaseEvent(tx, {
      id: newId(),
      case_id: id,
      at: now,
      type: "case.opened",
      actor: opening.actor,
      detail: JSON.stringify({ source: opening.source, ...opening.detail }),
    });
    if (opening.accountId) {
      await auditAccount(this.platform, tx, opening.accountId, {
        type: "case.opened",
        actor: opening.actor,
        detail: { ref, source: opening.source },
      });
    }
    return { id, ref, firstAttemptAt: opening.firstAttemptAt, created: true, contactChanged: false };
  }

  findById(id: string, tx?: Tx) {
    return store.findCaseById(tx ?? this.platform.db, id);
  }
}
