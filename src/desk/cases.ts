import { maskAlternate } from "../accounts/model.js";
import { lockKey, type Tx } from "../db/database.js";
import type { CasesTable } from "../db/schema.js";
import { enqueueMessage, type MailHeaders } from "../messaging/outbox.js";
import { countAct } from "../platform/caps.js";
import { DAY, HOUR } from "../platform/clock.js";
import { auditSubject, type Platform } from "../platform/context.js";
import { type Locale, type MessageKey, pickLocale, translator } from "../platform/i18n.js";
import { newCaseRef, newId } from "../platform/ids.js";
import { randomToken } from "../platform/secrets.js";
import { NO_DEADLINE, newEventId } from "./model.js";
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
  /** The person's country when known (the account's): picks the country team. */
  country?: string | null;
  /** Where a new case goes (the desk routes it); ignored when the case exists. */
  placement?: Placement;
  /** Acknowledge a new contact by mail (default true); false past a sender's cap. */
  acknowledge?: boolean;
  /** The Message-ID the acknowledgement answers (mail intake). */
  inReplyTo?: string;
}

/** Routing of a new case: team, tier and what the routing was read from. */
export interface Placement {
  team: string;
  tier: number;
  language: string;
  country: string | null;
  subject?: string | null;
  contactPhone?: string | null;
}

/** What the desk adds around the case record: its deadlines, and the headers of its mail. */
export interface CaseHooks {
  placementFor(opening: CaseOpening): Placement;
  /** Before a new case's row is written: puts its deadlines on `row` and sets its timers. */
  startClocks(tx: Tx, row: CasesTable): Promise<void>;
  mailHeaders(
    row: { ref: string; team: string },
    options: { autoReplied?: boolean; inReplyTo?: string },
  ): MailHeaders;
}

export interface CaseSummary {
  id: string;
  ref: string;
  team: string;
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
  caseId: string;
  contactId: string;
  status: "open" | "waiting" | "resolved";
  team: string;
  country: string | null;
  dueAt: number | null;
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
/** "A contact was added to your case" mails to one address per day, whatever the cases. */
export const NOTICES_PER_ADDRESS_PER_DAY = 5;

export class CasesService {
  /** Set by the desk, which builds on this record (routing, deadlines, mail headers). */
  hooks!: CaseHooks;

  constructor(private readonly platform: Platform) {}

  private tokenHash(token: string) {
    return this.platform.secrets.hmac(`case-contact:${token}`);
  }

  statusUrl(ref: string, token: string, locale: string) {
    return `${this.platform.config.publicUrl}/cases/${ref}?token=${token}&lang=${locale}`;
  }

  /** A contact's status link, for every mail to that contact (its token is kept sealed for this). */
  contactStatusUrl(ref: string, contact: { token_sealed: string | null }, locale: string): string {
    if (!contact.token_sealed) return `${this.platform.config.publicUrl}/`;
    return this.statusUrl(ref, this.platform.secrets.unseal(contact.token_sealed), locale);
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
        id: newEventId(),
        case_id: existing.id,
        at: now,
        type: opening.source.startsWith("recovery") ? "recovery_attempt" : "contact_again",
        actor: opening.actor,
        detail: JSON.stringify({ source: opening.source, ...opening.detail }),
      });
      await store.touchCase(tx, existing.id, now);
      summary = {
        id: existing.id,
        ref: existing.ref,
        team: existing.team,
        firstAttemptAt: Number(existing.first_attempt_at),
        created: false,
      };
    } else {
      const id = newId();
      const placement = opening.placement ?? this.hooks.placementFor(opening);
      const row: CasesTable = {
        id,
        ref: newCaseRef(),
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
        language: placement.language,
        country: placement.country,
        tier: placement.tier,
        team: placement.team,
        priority: "normal",
        subject: placement.subject ?? null,
        contact_phone: placement.contactPhone ?? null,
        tier_since: now,
        first_response_at: null,
        due_first_response: null,
        due_next_update: null,
        due_resolution: null,
        next_due: null,
        paused_at: null,
        resolved_at: null,
      };
      // The clocks put the deadlines on the row before it is written: one insert, no update after.
      await this.hooks.startClocks(tx, row);
      // A reference already taken is drawn again: the unique index tells, without a look-up first.
      while (!(await store.insertCase(tx, row))) row.ref = newCaseRef();
      const { ref } = row;
      await store.insertCaseEvent(tx, {
        id: newEventId(),
        case_id: id,
        at: now,
        type: "created",
        actor: opening.actor,
        detail: JSON.stringify({
          source: opening.source,
          team: placement.team,
          tier: placement.tier,
          ...opening.detail,
        }),
      });
      // Recorded for an address without an account too: the same work, so timing tells nothing.
      await auditSubject(
        this.platform,
        tx,
        { accountId: opening.accountId, address: opening.accountAddress },
        { type: "case.opened", actor: opening.actor, detail: { ref, source: opening.source } },
      );
      summary = { id, ref, team: placement.team, firstAttemptAt: opening.firstAttemptAt, created: true };
    }
    if (!opening.contactEmail) return { ...summary, contactId: null, contactAdded: false };
    const contact = await this.addContact(tx, summary, { ...opening, contactEmail: opening.contactEmail });
    return { ...summary, ...contact };
  }

  /** Adds a contact unless the case has it already; acknowledges it and tells the first contact. */
  private async addContact(
    tx: Tx,
    kase: { id: string; ref: string; team: string; created: boolean },
    opening: CaseOpening & { contactEmail: string },
  ): Promise<{ contactId: string; contactAdded: boolean }> {
    // A case opened in this transaction has no contact yet: two look-ups fewer for every new case.
    const known = kase.created ? undefined : await store.findContact(tx, kase.id, opening.contactEmail);
    if (known) return { contactId: known.id, contactAdded: false };
    const now = this.platform.clock.now();
    const earlier = kase.created ? [] : await store.contactsOf(tx, kase.id);
    const token = randomToken(32);
    const contactId = newId();
    await store.insertContact(tx, {
      id: contactId,
      case_id: kase.id,
      email: opening.contactEmail,
      via: opening.via,
      verified: 0,
      token_hash: this.tokenHash(token),
      token_sealed: this.platform.secrets.seal(token),
      created_at: now,
    });
    const locale = pickLocale(opening.locale);
    // Past a few contacts, newcomers are recorded (the agent sees them) but not mailed: a case must
    // not become a way to send our mail to a list of strangers.
    if (earlier.length < MAILED_CONTACTS_PER_CASE && opening.acknowledge !== false)
      await this.writeToContact(tx, kase, { id: contactId, email: opening.contactEmail }, locale, {
        subjectKey: "mail.case.subject",
        bodyKey: "mail.case.body",
        params: { ref: kase.ref },
        extra: { statusUrl: this.statusUrl(kase.ref, token, locale) },
        headers: this.hooks.mailHeaders(kase, {
          autoReplied: opening.inReplyTo !== undefined,
          ...(opening.inReplyTo ? { inReplyTo: opening.inReplyTo } : {}),
        }),
      });
    if (earlier.length === 0) return { contactId, contactAdded: true };
    // The first contact is the one the case was opened with (contacts may share a millisecond).
    const caseRow = await store.findCaseById(tx, kase.id);
    const first = earlier.find((c) => c.email === caseRow?.contact_email) ?? earlier[0];
    // At most one such notice an hour per case: a stranger adding contacts must not flood the first
    // one. And a few a day per address across cases: a stranger can open many cases naming someone
    // else as their first contact. Past that the notice is only on the contact's status page.
    if (first && (await store.mailsToContactSince(tx, first.id, NOTICE_TYPE, now - HOUR)) === 0) {
      const mail = await countAct(
        tx,
        `case-notice:${this.platform.secrets.hmac(`case-notice:${first.email}`)}`,
        now,
        DAY,
        NOTICES_PER_ADDRESS_PER_DAY,
      );
      await this.writeToContact(tx, kase, first, pickLocale(caseRow?.locale), {
        mail,
        subjectKey: "mail.case.contact_added.subject",
        bodyKey: "mail.case.contact_added.body",
        params: { ref: kase.ref, masked: maskAlternate("email", opening.contactEmail) },
        type: NOTICE_TYPE,
        extra: { statusUrl: this.contactStatusUrl(kase.ref, first, pickLocale(caseRow?.locale)) },
        headers: this.hooks.mailHeaders(kase, {}),
      });
    }
    return { contactId, contactAdded: true };
  }

  /** Queues a mail to one contact and records it (without secrets) for that contact's status page. */
  async writeToContact(
    tx: Tx,
    kase: { id: string; ref: string; team: string },
    contact: { id: string; email: string },
    locale: Locale,
    message: ContactMessage & {
      extra?: Record<string, string>;
      type?: string;
      headers?: MailHeaders;
      /** False: recorded for the contact's status page, not mailed (a cap was reached). */
      mail?: boolean;
      /** Who wrote it (an agent), and what the timeline keeps beside the message. */
      actor?: string;
      detail?: Record<string, unknown>;
    },
  ): Promise<string> {
    const now = this.platform.clock.now();
    const id = newEventId();
    const t = translator(locale);
    if (message.mail !== false)
      await enqueueMessage(tx, now, this.platform.secrets, {
        channel: "email",
        recipient: contact.email,
        subject: t(message.subjectKey, message.params),
        body: t(message.bodyKey, { ...message.params, ...message.extra }),
        headers: message.headers ?? this.hooks.mailHeaders(kase, {}),
        caseRef: kase.ref,
      });
    await store.insertCaseEvent(tx, {
      id,
      case_id: kase.id,
      at: now,
      type: message.type ?? "message_out",
      actor: message.actor ?? "system",
      contact_id: contact.id,
      detail: JSON.stringify({
        ...message.detail,
        subjectKey: message.subjectKey,
        bodyKey: message.bodyKey,
        params: message.params,
        to: contact.email,
      }),
    });
    return id;
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
      caseId: kase.id,
      contactId: contact.id,
      status: kase.status,
      team: kase.team,
      country: kase.country,
      dueAt: kase.status === "open" && Number(kase.next_due) < NO_DEADLINE ? Number(kase.next_due) : null,
      locale: pickLocale(kase.locale),
      messages: events.map((e) => {
        const detail = JSON.parse(e.detail) as Partial<ContactMessage> & { body?: string };
        return detail.subjectKey
          ? { at: Number(e.at), subjectKey: detail.subjectKey, params: detail.params ?? {} }
          : {
              at: Number(e.at),
              subjectKey: "desk.status.you_wrote" as MessageKey,
              params: { body: String(detail.body ?? "") },
            };
      }),
    };
  }

  /**
   * A recovery started for an address that has an open case goes on that case's timeline (the agent
   * sees the person is still trying). The same query runs for every address, known or not.
   */
  async noteRecoveryAttempt(tx: Tx, address: string, recoveryRef: string): Promise<void> {
    await store.insertEventOnOpenCase(tx, address, {
      id: newEventId(),
      at: this.platform.clock.now(),
      type: "recovery_attempt",
      actor: "recovery",
      detail: JSON.stringify({ recovery: recoveryRef, step: "started" }),
    });
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
