import { maskAlternate } from "../accounts/model.js";
import { lockKey, type Tx } from "../db/database.js";
import { enqueueMessage } from "../messaging/outbox.js";
import { HOUR } from "../platform/clock.js";
import { auditAccount, type Platform } from "../platform/context.js";
import { type Locale, type MessageKey, pickLocale, translator } from "../platform/i18n.js";
import { newCaseRef, newId } from "../platform/ids.js";
import { randomToken } from "../platform/secrets.js";
import * as store from "./store.js";

export interface CaseOpening {
  accountId: string | null;
  accountAddress: string;
  /** A contact address the person gave (never echoed to anyone else), or null. */
  contactEmail: string | null;
  /** How that contact arrived, e.g. "recovery_no_access". */
  via: string;
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
  /** The contact of this opening (new or already known), if one was given. */
  contactId: string | null;
  /** The contact was new to the case: it was acknowledged, and the first contact told. */
  contactAdded: boolean;
}

/** What a contact's own status link shows: the case and what was written to that contact only. */
export interface ContactStatus {
  ref: string;
  status: "open" | "waiting" | "resolved";
  locale: Locale;
  messages: Array<{ at: number; subjectKey: MessageKey; params: Record<string, string> }>;
}

const NOTICE_TYPE = "case.contact_added_notice";

/** A message written to one contact, recorded so that their status page can show it. */
interface ContactMessage {
  subjectKey: MessageKey;
  bodyKey: MessageKey;
  params: Record<string, string>;
}

/**
 * Cases are the single record of one person's problem. The support desk (tiers, SLA, escalation)
 * builds on this; here a case is opened or joined, never duplicated for the same open problem.
 * Contacts are added, never replaced; each has its own status token; mail to a contact never
 * carries text that someone else typed.
 */
/** Contacts of one case that get an acknowledgement mail; later ones are only recorded. */
export const MAILED_CONTACTS_PER_CASE = 10;

export class CasesService {
  constructor(private readonly platform: Platform) {}

  private tokenHash(token: string) {
    return this.platform.secrets.hmac(`case-contact:${token}`);
  }

  statusUrl(token: string, locale: string) {
    return `${this.platform.config.publicUrl}/cases/status?token=${token}&lang=${locale}`;
  }

  /** Opens a case for this address, or adds to the one already open: one problem, one reference. */
  async openOrJoin(tx: Tx, opening: CaseOpening): Promise<CaseSummary> {
    const now = this.platform.clock.now();
    // Two attempts racing must not open two cases for one problem, nor add one contact twice.
    await lockKey(tx, this.platform.dialect, `cases:${opening.accountAddress}`);
    const existing = await store.findOpenCaseOf(tx, opening.accountAddress);
    let summary: Omit<CaseSummary, "contactId" | "contactAdded">;
    if (existing) {
      await store.insertCaseEvent(tx, {
        id: newId(),
        case_id: existing.id,
        at: now,
        type: "case.contact_again",
        actor: opening.actor,
        detail: JSON.stringify({ source: opening.source, ...opening.detail }),
      });
      await store.touchCase(tx, existing.id, now);
      summary = {
        id: existing.id,
        ref: existing.ref,
        firstAttemptAt: Number(existing.first_attempt_at),
        created: false,
      };
    } else {
      const id = newId();
      let ref = newCaseRef();
      while (await store.findCaseByRef(tx, ref)) ref = newCaseRef();
      await store.insertCase(tx, {
        id,
        ref,
        account_id: opening.accountId,
        account_address: opening.accountAddress,
        // The first contact; later ones are added to case_contacts, this one is never replaced.
        contact_email: opening.contactEmail,
        locale: opening.locale,
        status: "open",
        source: opening.source,
        first_attempt_at: opening.firstAttemptAt,
        opened_at: now,
        updated_at: now,
        language: opening.locale,
        country: null,
        tier: 1,
        team: "",
        priority: "normal",
        subject: null,
        contact_phone: null,
        tier_since: now,
        first_response_at: null,
        due_first_response: null,
        due_next_update: null,
        due_resolution: null,
        next_due: null,
        paused_at: null,
        resolved_at: null,
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
      summary = { id, ref, firstAttemptAt: opening.firstAttemptAt, created: true };
    }
    if (!opening.contactEmail) return { ...summary, contactId: null, contactAdded: false };
    const contact = await this.addContact(tx, summary, { ...opening, contactEmail: opening.contactEmail });
    return { ...summary, ...contact };
  }

  /** Adds a contact unless the case has it already; acknowledges it and tells the first contact. */
  private async addContact(
    tx: Tx,
    kase: { id: string; ref: string },
    opening: CaseOpening & { contactEmail: string },
  ): Promise<{ contactId: string; contactAdded: boolean }> {
    const known = await store.findContact(tx, kase.id, opening.contactEmail);
    if (known) return { contactId: known.id, contactAdded: false };
    const now = this.platform.clock.now();
    const earlier = await store.contactsOf(tx, kase.id);
    const token = randomToken(32);
    const contactId = newId();
    await store.insertContact(tx, {
      id: contactId,
      case_id: kase.id,
      email: opening.contactEmail,
      via: opening.via,
      verified: 0,
      token_hash: this.tokenHash(token),
      created_at: now,
    });
    const locale = pickLocale(opening.locale);
    // Past a few contacts, newcomers are recorded (the agent sees them) but not mailed: a case must
    // not become a way to send our mail to a list of strangers.
    if (earlier.length < MAILED_CONTACTS_PER_CASE)
      await this.writeToContact(tx, kase.id, { id: contactId, email: opening.contactEmail }, locale, {
        subjectKey: "mail.case.subject",
        bodyKey: "mail.case.body",
        params: { ref: kase.ref },
        extra: { statusUrl: this.statusUrl(token, locale) },
      });
    // The first contact is the one the case was opened with (contacts may share a millisecond).
    const caseRow = await store.findCaseById(tx, kase.id);
    const first = earlier.find((c) => c.email === caseRow?.contact_email) ?? earlier[0];
    // At most one such notice an hour: a stranger adding contacts must not flood the first one.
    if (first && (await store.mailsToContactSince(tx, first.id, NOTICE_TYPE, now - HOUR)) === 0) {
      await this.writeToContact(tx, kase.id, first, pickLocale(caseRow?.locale), {
        subjectKey: "mail.case.contact_added.subject",
        bodyKey: "mail.case.contact_added.body",
        params: { ref: kase.ref, masked: maskAlternate("email", opening.contactEmail) },
        type: NOTICE_TYPE,
      });
    }
    return { contactId, contactAdded: true };
  }

  /** Queues a mail to one contact and records it (without secrets) for that contact's status page. */
  private async writeToContact(
    tx: Tx,
    caseId: string,
    contact: { id: string; email: string },
    locale: Locale,
    message: ContactMessage & { extra?: Record<string, string>; type?: string },
  ) {
    const now = this.platform.clock.now();
    const t = translator(locale);
    await enqueueMessage(tx, now, this.platform.secrets, {
      channel: "email",
      recipient: contact.email,
      subject: t(message.subjectKey, message.params),
      body: t(message.bodyKey, { ...message.params, ...message.extra }),
    });
    await store.insertCaseEvent(tx, {
      id: newId(),
      case_id: caseId,
      at: now,
      type: message.type ?? "case.mail_to_contact",
      actor: "system",
      contact_id: contact.id,
      detail: JSON.stringify({
        subjectKey: message.subjectKey,
        bodyKey: message.bodyKey,
        params: message.params,
      }),
    });
  }

  /** The status behind one contact's token, or null: the reference alone grants nothing. */
  async statusForToken(token: string): Promise<ContactStatus | null> {
    if (token.length < 20 || token.length > 100) return null;
    const contact = await store.findContactByTokenHash(this.platform.db, this.tokenHash(token));
    if (!contact) return null;
    const kase = await store.findCaseById(this.platform.db, contact.case_id);
    if (!kase) return null;
    const events = await store.eventsForContact(this.platform.db, contact.id);
    return {
      ref: kase.ref,
      status: kase.status,
      locale: pickLocale(kase.locale),
      messages: events.map((e) => {
        const detail = JSON.parse(e.detail) as ContactMessage;
        return { at: Number(e.at), subjectKey: detail.subjectKey, params: detail.params };
      }),
    };
  }

  /** The reference of the open case of this address, for the person who proved a factor. */
  async openCaseRefOf(address: string): Promise<string | undefined> {
    return (await store.findOpenCaseOf(this.platform.db, address))?.ref;
  }

  findById(id: string, tx?: Tx) {
    return store.findCaseById(tx ?? this.platform.db, id);
  }

  findContactById(id: string, tx?: Tx) {
    return store.findContactById(tx ?? this.platform.db, id);
  }
}
