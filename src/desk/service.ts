import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";
import type { AccountsService } from "../accounts/service.js";
import { auditAgentAct, type Viewer } from "../agents/guard.js";
import type { Tx } from "../db/database.js";
import { type InboundMail, mayAutoAnswer } from "../messaging/inbound/classify.js";
import { outboxIdFromMessageId, refFromSignedId } from "../messaging/inbound/message-ids.js";
import { applyBounce } from "../messaging/inbound/service.js";
import { linkInbound, outboxEmailRecipient, recordInbound } from "../messaging/inbound/store.js";
import { enqueueMessage, isSuppressed, type MailHeaders, plusAddress } from "../messaging/outbox.js";
import { calendarOf } from "../org/calendar.js";
import { mainTimeZoneOf } from "../org/holidays.js";
import type { Organisation, Team } from "../org/model.js";
import { nextTier, teamByEmail, teamById, tier1Team } from "../org/routing.js";
import { slaTargets } from "../org/sla.js";
import { countAct } from "../platform/caps.js";
import { DAY } from "../platform/clock.js";
import { auditAccount, inTransaction, type Platform } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { type Locale, pickLocale, translator } from "../platform/i18n.js";
import { newId } from "../platform/ids.js";
import { randomToken } from "../platform/secrets.js";
import type { TimerService, TimerToSchedule } from "../timers/service.js";
import {
  type CaseOpening,
  type CaseSummary,
  type CasesService,
  MAILED_CONTACTS_PER_CASE,
  type Placement,
} from "./cases.js";
import {
  type CaseRow,
  DEADLINES,
  type Deadline,
  deadlineColumn,
  dueOf,
  NO_DEADLINE,
  nearest,
  newEventId,
  normaliseRef,
  TIMER,
  timelineType,
  WARNING_SHARE,
} from "./model.js";
import * as store from "./store.js";

/** A case as the web form and `POST /api/v1/cases` give it. */
export interface WebIntake {
  contactEmail: string;
  language: string;
  country: string | null;
  subject: string;
  body: string;
  address?: string | undefined;
}

export interface CallIntake {
  callerNumber: string;
  language: string;
  centre: string;
}

/** Who acts on a case: an agent, the service (integrations), the system (timers), or the customer. */
export type Actor = Viewer | { kind: "system" };

/** Acknowledgements to one sender per day at most (RFC 3834 asks for a cap; strangers must not use us to mail a victim). */
const ACKS_PER_SENDER_PER_DAY = 5;
/** New cases from one contact address per hour through the public form. */
const CASES_PER_CONTACT_PER_HOUR = 5;
/** "Your case is with a new team" mails to one address per day, across cases. */
const ESCALATION_MAILS_PER_ADDRESS_PER_DAY = 5;
/** Survey mail: a day after resolution. */
const SURVEY_DELAY_MS = DAY;

const actorName = (actor: Actor) =>
  actor.kind === "agent" ? `agent:${actor.agentId}` : actor.kind === "service" ? "service" : "system";

/** What phone systems send for a caller who withholds their number. */
const WITHHELD_NUMBER = /^(anonymous|withheld|private|restricted|unknown|unavailable)$/i;

/** `fresh`: a case whose row is written after its clocks start; `alsoSchedule`: set with its deadlines. */
interface DeadlineOptions {
  fresh?: boolean;
  alsoSchedule?: TimerToSchedule[];
}

const languageOf = (tag: string) => tag.trim().toLowerCase().split(/[-_]/)[0] || "en";

/**
 * The support desk: every contact becomes part of one case, the case goes to the right team by
 * language and country, deadlines run in the receiving team's business hours from the person's first
 * attempt, and a case that is not moving climbs the tiers by itself (call centre, country team, corp).
 * Every change, its timers, its audit entries and its mail commit in one transaction.
 */
export class DeskService {
  readonly org: Organisation;
  private readonly timers: TimerService;

  constructor(
    private readonly platform: Platform,
    readonly cases: CasesService,
    private readonly accounts: AccountsService,
  ) {
    this.org = platform.config.organisation;
    this.timers = platform.timers;
    cases.hooks = {
      placementFor: (opening) => this.placementFor(opening),
      startClocks: (tx, row) => this.startClocks(tx, row),
      mailHeaders: (row, options) => this.mailHeaders(row, options),
    };
    for (const deadline of DEADLINES) {
      this.timers.on(TIMER.breach(deadline), (tx, timer) =>
        this.deadlinePassed(tx, timer.subject, deadline, timer.dueAt),
      );
      this.timers.on(TIMER.warning(deadline), (tx, timer) => this.deadlineNear(tx, timer.subject, deadline));
    }
    this.timers.on(TIMER.customerClock, (tx, timer) =>
      this.customerClockPassed(
        tx,
        timer.subject,
        Number((timer.payload as { index?: number })?.index ?? 0),
        timer.dueAt,
      ),
    );
    this.timers.on(TIMER.survey, (tx, timer) => this.sendSurvey(tx, timer.subject));
  }

  now(): number {
    return this.platform.clock.now();
  }

  team(id: string): Team {
    const team = teamById(this.org, id);
    if (!team) throw new AppError("ERR_TEAM_NOT_FOUND");
    return team;
  }

  // ---- intake -------------------------------------------------------------------------------

  /** A recovery's case (the "I can't reach any of these" path): routed like any other. */
  openOrJoin(tx: Tx, opening: CaseOpening): Promise<CaseSummary> {
    return this.cases.openOrJoin(tx, opening);
  }

  private placementFor(opening: CaseOpening): Placement {
    const language = languageOf(opening.locale);
    const country = opening.country ?? this.platform.config.defaultCountry ?? null;
    const team = tier1Team(this.org, language, country);
    return { team: team.id, tier: team.tier, language, country };
  }

  /** Web form and `POST /api/v1/cases`: a new case, or the open one of that address. */
  async openFromWeb(
    input: WebIntake,
    source: string,
  ): Promise<{ ref: string; team: string; tier: number; status: string }> {
    const contactEmail = input.contactEmail.trim().toLowerCase();
    const address = (input.address?.trim().toLowerCase() || contactEmail) as string;
    const language = languageOf(input.language);
    const country = input.country ? input.country.toUpperCase() : null;
    const now = this.platform.clock.now();
    const account = await this.accounts.findByAddress(address);
    const result = await inTransaction(this.platform, async (tx) => {
      const allowed = await countAct(
        tx,
        `case-intake:${this.platform.secrets.hmac(`contact:${contactEmail}`)}`,
        now,
        3_600_000,
        CASES_PER_CONTACT_PER_HOUR,
      );
      if (!allowed) throw new AppError("ERR_TOO_MANY_CASES");
      const team = tier1Team(this.org, language, country);
      const summary = await this.cases.openOrJoin(tx, {
        accountId: account?.id ?? null,
        accountAddress: address,
        contactEmail,
        via: "web_form",
        locale: pickLocale(language),
        source: "web",
        firstAttemptAt: now,
        actor: source,
        placement: { team: team.id, tier: team.tier, language, country, subject: input.subject },
        acknowledge: await this.mayAcknowledge(tx, contactEmail, now),
      });
      await this.addEvent(tx, summary.id, "message_in", source, {
        channel: "web",
        from: contactEmail,
        subject: input.subject,
        body: input.body,
        contactId: summary.contactId,
      });
      // A new case is where it was just placed; a joined one may have moved (reopened, resumed).
      if (summary.created) return { ref: summary.ref, team: team.id, tier: team.tier, status: "open" };
      await this.customerSpoke(tx, await this.mustFind(tx, summary.id), now);
      const current = await this.mustFind(tx, summary.id);
      return { ref: current.ref, team: current.team, tier: current.tier, status: current.status };
    });
    this.platform.wakeOutbox();
    return result;
  }

  /** A call event from the phone system: on the caller's open case, or on a new one. Never lost. */
  async logCall(input: CallIntake, actor: Actor): Promise<{ callId: string; caseRef: string }> {
    // A caller who withholds their number is still on a case (a new one each time: nothing to join on).
    const withheld = WITHHELD_NUMBER.test(input.callerNumber.trim());
    // A national form (0470 …, 0032 470 …) is read in the installation's country, as everywhere else.
    const phone = withheld
      ? undefined
      : parsePhoneNumberFromString(
          input.callerNumber.trim(),
          (this.platform.config.defaultCountry ?? undefined) as CountryCode | undefined,
        );
    if (!withheld && !phone?.isValid()) throw new AppError("ERR_PHONE_INVALID");
    const number = phone?.number ?? null;
    const centre = teamById(this.org, input.centre);
    if (!centre) throw new AppError("ERR_TEAM_NOT_FOUND", { field: "centre" });
    const language = languageOf(input.language);
    const now = this.platform.clock.now();
    const result = await inTransaction(this.platform, async (tx) => {
      let row = number ? await store.findOpenCaseByPhone(tx, number) : undefined;
      if (!row) {
        const account = number ? await this.accounts.findByVerifiedPhone(number, tx) : undefined;
        const address = account?.address ?? number ?? `withheld-call:${newId()}`;
        const summary = await this.cases.openOrJoin(tx, {
          accountId: account?.id ?? null,
          accountAddress: address,
          contactEmail: null,
          via: "phone",
          locale: pickLocale(language),
          source: "phone",
          firstAttemptAt: now,
          actor: actorName(actor),
          placement: {
            team: centre.id,
            tier: centre.tier,
            language,
            country: phone?.country ?? null,
            contactPhone: number,
          },
        });
        row = await this.mustFind(tx, summary.id);
        if (number && !row.contact_phone) await store.updateCase(tx, row.id, { contact_phone: number });
        if (!summary.created) await this.customerSpoke(tx, row, now);
      } else {
        await this.customerSpoke(tx, row, now);
      }
      const callId = await this.addEvent(tx, row.id, "call", actorName(actor), {
        direction: "in",
        language,
        centre: centre.id,
        callerNumber: number ?? "withheld",
      });
      return { callId, caseRef: row.ref };
    });
    this.platform.wakeOutbox();
    return result;
  }

  /** Whether the recipient of the listener is one of ours (a team address or its plus form). */
  acceptsRecipient = (address: string) => teamByEmail(this.org, address) !== undefined;

  /**
   * A mail to a team address. Bounces mark the address undeliverable; auto-replies land on a thread
   * at most (never open, reopen or answer anything); a reference threads only when it is signed by
   * us, or when the sender is a contact of that case or a team; anything else opens a new case.
   */
  async receiveMail(mail: InboundMail): Promise<void> {
    const now = this.platform.clock.now();
    await inTransaction(this.platform, async (tx) => {
      if (!(await recordInbound(tx, mail.messageId, now))) return;
      if (mail.kind === "bounce") {
        await applyBounce(this.platform, tx, mail);
        return;
      }
      const thread = await this.threadOf(tx, mail);
      if (mail.kind === "auto_reply") {
        if (thread)
          await this.addEvent(tx, thread.id, "auto_reply", `mail:${mail.from}`, {
            from: mail.from,
            subject: mail.subject,
          });
        return;
      }
      // From is whatever the sender typed: a team speaks (internal, no customer clock) only when it
      // answers, in the case's thread, a mail Sesame sent to that very team.
      const claimedTeam = teamByEmail(this.org, mail.from);
      const fromTeam =
        claimedTeam && thread && (await this.answersMailToTeam(tx, mail, thread.ref, claimedTeam))
          ? claimedTeam
          : undefined;
      if (thread) {
        await this.addEvent(
          tx,
          thread.id,
          "message_in",
          fromTeam ? `team:${fromTeam.id}` : `mail:${mail.from}`,
          {
            channel: "email",
            from: mail.from,
            subject: mail.subject,
            body: mail.text,
            ...(fromTeam ? { team: fromTeam.id, visibility: "internal" } : {}),
          },
        );
        if (!fromTeam) await this.customerSpoke(tx, thread, now);
        await store.updateCase(tx, thread.id, { updated_at: now });
        await linkInbound(tx, mail.messageId, thread.id);
        return;
      }
      if (claimedTeam) return; // a team writing to a team without a case: nothing to open
      const recipientTeam =
        mail.recipients.map((r) => teamByEmail(this.org, r)).find((t): t is Team => t !== undefined) ??
        tier1Team(this.org, "other", null);
      const language = recipientTeam.languages.find((l) => l !== "other") ?? "en";
      const summary = await this.cases.openOrJoin(tx, {
        accountId: null,
        accountAddress: mail.from,
        contactEmail: mail.from,
        via: "email",
        locale: pickLocale(language),
        source: "email",
        firstAttemptAt: now,
        actor: `mail:${mail.from}`,
        placement: {
          team: recipientTeam.id,
          tier: recipientTeam.tier,
          language,
          country:
            recipientTeam.tier === 2 && Array.isArray(recipientTeam.countries)
              ? (recipientTeam.countries[0] ?? null)
              : null,
          subject: mail.subject,
        },
        acknowledge: mayAutoAnswer(mail) && (await this.mayAcknowledge(tx, mail.from, now)),
        inReplyTo: mail.messageId,
      });
      await linkInbound(tx, mail.messageId, summary.id);
      await this.addEvent(tx, summary.id, "message_in", `mail:${mail.from}`, {
        channel: "email",
        from: mail.from,
        subject: mail.subject,
        body: mail.text,
        contactId: summary.contactId,
      });
      if (!summary.created) await this.customerSpoke(tx, await this.mustFind(tx, summary.id), now);
    });
    this.platform.wakeOutbox();
  }

  private async threadOf(tx: Tx, mail: InboundMail): Promise<CaseRow | undefined> {
    if (mail.signedRef) {
      const signed = await store.findCaseByRef(tx, mail.signedRef);
      if (signed) return signed;
    }
    const claimed = mail.plusRef ?? mail.subjectRef;
    if (!claimed) return undefined;
    const row = await store.findCaseByRef(tx, normaliseRef(claimed));
    if (!row) return undefined;
    if (row.contact_email === mail.from || row.account_address === mail.from) return row;
    return (await store.findContact(tx, row.id, mail.from)) ? row : undefined;
  }

  /**
   * Whether the mail answers one Sesame sent to `team` about case `ref`: an id in In-Reply-To or
   * References that we signed for that case, naming an outbox row addressed to the team. A customer
   * holds signed ids of the mail sent to them, never of the team's.
   */
  private async answersMailToTeam(tx: Tx, mail: InboundMail, ref: string, team: Team): Promise<boolean> {
    const ids = [...(mail.inReplyTo ? [mail.inReplyTo] : []), ...mail.references];
    for (const id of ids) {
      if (refFromSignedId(this.platform.secrets, id) !== ref) continue;
      const outboxId = outboxIdFromMessageId(id);
      if (!outboxId) continue;
      if ((await outboxEmailRecipient(tx, outboxId)) === team.email.toLowerCase()) return true;
    }
    return false;
  }

  /** At most a few acknowledgements a day to one address, whatever the cases. */
  private mayAcknowledge(tx: Tx, address: string, now: number): Promise<boolean> {
    return countAct(
      tx,
      `ack:${this.platform.secrets.hmac(`ack:${address}`)}`,
      now,
      DAY,
      ACKS_PER_SENDER_PER_DAY,
    );
  }

  // ---- clocks -------------------------------------------------------------------------------

  /** A new case: its tier's deadlines from now, and the customer clock from the first attempt. */
  private async startClocks(tx: Tx, row: CaseRow): Promise<void> {
    const now = this.platform.clock.now();
    const limits = this.org.customerClockLimitsMs;
    const customerClock: TimerToSchedule[] =
      limits.length > 0
        ? [
            {
              kind: TIMER.customerClock,
              subject: row.id,
              dueAt: Number(row.first_attempt_at) + limits[0]!,
              payload: { index: 0 },
            },
          ]
        : [];
    await this.setTierDeadlines(tx, row, now, { fresh: true, alsoSchedule: customerClock });
  }

  /**
   * A reopened case: the customer clock never paused, so the next limit it has not passed yet (a
   * limit passed while the case was resolved fires at once) is due from the first attempt again.
   */
  private async resumeCustomerClock(tx: Tx, row: CaseRow): Promise<void> {
    const limits = this.org.customerClockLimitsMs;
    const passed = (await store.eventsOf(tx, row.id)).filter(
      (e) =>
        e.type === "sla_breached" &&
        (JSON.parse(e.detail) as { deadline?: string }).deadline === "customerClock",
    ).length;
    const next = limits[passed];
    if (next !== undefined)
      await this.timers.schedule(tx, TIMER.customerClock, row.id, Number(row.first_attempt_at) + next, {
        index: passed,
      });
  }

  /** Deadlines of the case's current tier, counted from `from` in its team's business hours. */
  private async setTierDeadlines(
    tx: Tx,
    row: CaseRow,
    from: number,
    options: DeadlineOptions = {},
  ): Promise<void> {
    const targets = slaTargets(this.org, row.tier, row.priority, this.team(row.team));
    const due: Partial<Record<Deadline, number | null>> = {
      firstResponse:
        targets.firstResponseMin !== undefined
          ? this.addBusiness(row.team, from, targets.firstResponseMin)
          : null,
      nextUpdate: null,
      resolution:
        targets.resolutionMin !== undefined ? this.addBusiness(row.team, from, targets.resolutionMin) : null,
    };
    await this.applyDeadlines(tx, row, due, from, options);
  }

  private addBusiness(teamId: string, from: number, minutes: number): number {
    return calendarOf(this.team(teamId)).addBusinessMinutes(from, minutes);
  }

  /**
   * Stores the deadlines on the case and sets (or cancels) their breach and warning timers, all set
   * in one statement with `alsoSchedule`. `fresh`: the case's row is written after this, in this
   * transaction, with the deadlines put on `row` here; it has no timer to cancel yet (three
   * statements fewer per new case).
   */
  private async applyDeadlines(
    tx: Tx,
    row: CaseRow,
    due: Partial<Record<Deadline, number | null>>,
    from: number,
    options: DeadlineOptions = {},
  ): Promise<void> {
    const changes: Partial<CaseRow> = {};
    const merged = { ...dueOf(row), ...due };
    const toSchedule = [...(options.alsoSchedule ?? [])];
    for (const deadline of DEADLINES) {
      if (!(deadline in due)) continue;
      const at = due[deadline] ?? null;
      changes[deadlineColumn[deadline]] = at;
      if (at === null) {
        if (options.fresh) continue;
        await this.timers.cancel(tx, TIMER.breach(deadline), row.id);
        await this.timers.cancel(tx, TIMER.warning(deadline), row.id);
        continue;
      }
      toSchedule.push({ kind: TIMER.breach(deadline), subject: row.id, dueAt: at });
      const calendar = calendarOf(this.team(row.team));
      const span = calendar.businessMinutesBetween(from, at);
      const warnAt = calendar.addBusinessMinutes(from, Math.floor(span * WARNING_SHARE));
      if (warnAt < at) toSchedule.push({ kind: TIMER.warning(deadline), subject: row.id, dueAt: warnAt });
      else if (!options.fresh) await this.timers.cancel(tx, TIMER.warning(deadline), row.id);
    }
    await this.timers.scheduleAll(tx, toSchedule);
    changes.next_due = row.status === "open" ? nearest(merged) : NO_DEADLINE;
    changes.updated_at = this.platform.clock.now();
    if (!options.fresh) await store.updateCase(tx, row.id, changes);
    Object.assign(row, changes);
  }

  private async cancelTierTimers(tx: Tx, caseId: string) {
    for (const deadline of DEADLINES) {
      await this.timers.cancel(tx, TIMER.breach(deadline), caseId);
      await this.timers.cancel(tx, TIMER.warning(deadline), caseId);
    }
  }

  /**
   * The customer wrote or called: a resolved case reopens (its survey voided), a case waiting on
   * them resumes with the business time it had left, and an answer is owed by the next update.
   */
  private async customerSpoke(tx: Tx, row: CaseRow, now: number): Promise<void> {
    if (row.status === "resolved") {
      await store.updateCase(tx, row.id, {
        status: "open",
        resolved_at: null,
        first_response_at: null,
        tier_since: now,
      });
      Object.assign(row, { status: "open", resolved_at: null, first_response_at: null });
      await this.voidSurvey(tx, row.id, now);
      await this.addEvent(tx, row.id, "reopened", "system", {});
      await this.setTierDeadlines(tx, row, now);
      await this.resumeCustomerClock(tx, row);
      return;
    }
    if (row.status === "waiting") {
      const pausedAt = Number(row.paused_at ?? now);
      const calendar = calendarOf(this.team(row.team));
      const shifted: Partial<Record<Deadline, number | null>> = {};
      for (const [deadline, at] of Object.entries(dueOf(row)) as Array<[Deadline, number]>)
        shifted[deadline] = calendar.addBusinessMinutes(now, calendar.businessMinutesBetween(pausedAt, at));
      const targets = slaTargets(this.org, row.tier, row.priority, this.team(row.team));
      if (row.first_response_at !== null && targets.nextUpdateMin !== undefined)
        shifted.nextUpdate = calendar.addBusinessMinutes(now, targets.nextUpdateMin);
      await store.updateCase(tx, row.id, { status: "open", paused_at: null });
      row.status = "open";
      row.paused_at = null;
      await this.addEvent(tx, row.id, "resumed", "system", {});
      await this.applyDeadlines(tx, row, shifted, now);
    }
  }

  /**
   * A deadline passed: recorded, and the case goes up a tier. The new tier's clocks count from the
   * instant the deadline passed, not from when this node got to it, so the arithmetic is exact.
   */
  private async deadlinePassed(tx: Tx, caseId: string, deadline: Deadline, dueAt: number): Promise<void> {
    const row = await store.findCaseById(tx, caseId);
    if (row?.status !== "open") return;
    // A timer of a deadline that has moved since (an escalation fired in the same batch reset the
    // tier's deadlines) is stale: only the deadline the case holds now can pass.
    if (Number(row[deadlineColumn[deadline]]) !== dueAt) return;
    await this.addEvent(tx, caseId, "sla_breached", "system", {
      deadline,
      due: dueAt,
      tier: row.tier,
      team: row.team,
    });
    await this.raise(tx, row, { kind: "system" }, `sla_${deadline}`, dueAt);
  }

  private async deadlineNear(tx: Tx, caseId: string, deadline: Deadline): Promise<void> {
    const row = await store.findCaseById(tx, caseId);
    if (row?.status !== "open") return;
    await this.addEvent(tx, caseId, "sla_warning", "system", {
      deadline,
      due: Number(row[deadlineColumn[deadline]]),
      tier: row.tier,
      team: row.team,
    });
  }

  /** The customer clock passed a limit (3 days, then 7): up a tier, whatever the per-tier clocks say. */
  private async customerClockPassed(tx: Tx, caseId: string, index: number, dueAt: number): Promise<void> {
    const row = await store.findCaseById(tx, caseId);
    if (!row || row.status === "resolved") return;
    const limits = this.org.customerClockLimitsMs;
    await this.addEvent(tx, caseId, "sla_breached", "system", {
      deadline: "customerClock",
      limitMs: limits[index],
      tier: row.tier,
      team: row.team,
    });
    const next = limits[index + 1];
    if (next !== undefined)
      await this.timers.schedule(tx, TIMER.customerClock, caseId, Number(row.first_attempt_at) + next, {
        index: index + 1,
      });
    await this.raise(tx, row, { kind: "system" }, "customer_clock", dueAt);
  }

  // ---- escalation ---------------------------------------------------------------------------

  /** Raises a case one tier; at the top, it stays with corp (who is mailed again). */
  private async raise(
    tx: Tx,
    row: CaseRow,
    actor: Actor,
    reason: string,
    from = this.platform.clock.now(),
  ): Promise<Team | null> {
    const target = nextTier(this.org, { tier: row.tier, country: row.country });
    if (!target) return null;
    await this.moveTo(tx, row, target, actor, reason, "escalated", from);
    return target;
  }

  private async moveTo(
    tx: Tx,
    row: CaseRow,
    target: Team,
    actor: Actor,
    reason: string,
    type: "escalated" | "reassigned",
    now = this.platform.clock.now(),
  ) {
    const from = { tier: row.tier, team: row.team };
    await this.cancelTierTimers(tx, row.id);
    Object.assign(row, {
      tier: target.tier,
      team: target.id,
      tier_since: now,
      first_response_at: null,
      due_next_update: null,
      // Waiting on the customer stays so: the new team's clocks start when the customer answers.
    });
    await store.updateCase(tx, row.id, {
      tier: target.tier,
      team: target.id,
      tier_since: now,
      first_response_at: null,
    });
    await this.addEvent(tx, row.id, type, actorName(actor), {
      fromTier: from.tier,
      fromTeam: from.team,
      toTier: target.tier,
      toTeam: target.id,
      reason,
    });
    await this.audit(tx, row, actor, `case.${type}`, {
      ref: row.ref,
      from: from.team,
      to: target.id,
      reason,
    });
    if (row.status === "open") await this.setTierDeadlines(tx, row, now);
    else await this.applyDeadlines(tx, row, { firstResponse: null, nextUpdate: null, resolution: null }, now);
    await this.mailTeam(tx, row, target, reason);
    await this.tellCustomer(tx, row, target);
  }

  /** The receiving team gets a summary, with a reply-to that lands their answer on the case. */
  private async mailTeam(tx: Tx, row: CaseRow, team: Team, reason: string) {
    // In the team's own language (its first one that Sesame speaks; corp and dublin read English).
    const t = translator(pickLocale(...team.languages));
    const events = await store.eventsOf(tx, row.id);
    const lastIn = [...events].reverse().find((e) => e.type === "message_in");
    const lastText = lastIn
      ? String((JSON.parse(lastIn.detail) as { body?: string }).body ?? "").slice(0, 2000)
      : "";
    const due = nearest(dueOf(row));
    await enqueueMessage(tx, this.platform.clock.now(), this.platform.secrets, {
      channel: "email",
      recipient: team.email,
      subject: t("desk.mail.team.subject", { ref: row.ref, tier: row.tier }),
      body: t("desk.mail.team.body", {
        ref: row.ref,
        team: team.name,
        tier: row.tier,
        reason,
        language: row.language,
        country: row.country ?? "-",
        firstAttempt: new Date(Number(row.first_attempt_at)).toISOString(),
        due: due < NO_DEADLINE ? new Date(due).toISOString() : "-",
        subject: row.subject ?? "-",
        lastMessage: lastText || "-",
        link: `${this.platform.config.publicUrl}/agent/cases/${row.ref}`,
      }),
      headers: this.mailHeaders(row, {}),
      caseRef: row.ref,
    });
  }

  /** Tells the case's contacts who now holds their case and when they will hear from us. */
  private async tellCustomer(tx: Tx, row: CaseRow, team: Team) {
    const contacts = (await store.contactsOf(tx, row.id)).slice(0, MAILED_CONTACTS_PER_CASE);
    const due = nearest(dueOf(row));
    const now = this.platform.clock.now();
    for (const contact of contacts) {
      if (await isSuppressed(tx, contact.email)) continue;
      const locale = pickLocale(row.locale);
      // Anyone may name an address as their contact on many cases: a few of these mails a day per
      // address, whatever the cases; past that the news is on the contact's status page only.
      const mail = await countAct(
        tx,
        `case-escalated:${this.platform.secrets.hmac(`case-escalated:${contact.email}`)}`,
        now,
        DAY,
        ESCALATION_MAILS_PER_ADDRESS_PER_DAY,
      );
      await this.cases.writeToContact(tx, row, contact, locale, {
        mail,
        subjectKey: "desk.mail.escalated.subject",
        bodyKey: due < NO_DEADLINE ? "desk.mail.escalated.body" : "desk.mail.escalated.body_nodue",
        params: {
          ref: row.ref,
          team: team.name,
          due: due < NO_DEADLINE ? this.plainDue(due, locale, row.country) : "",
        },
        extra: { statusUrl: this.cases.contactStatusUrl(row.ref, contact, locale) },
      });
    }
    // A caller known only by their number (from the phone system, not typed by anyone) is told by SMS.
    if (contacts.length === 0 && row.contact_phone && this.platform.channels.sms) {
      const texted = await countAct(
        tx,
        `case-escalated:${this.platform.secrets.hmac(`case-escalated:${row.contact_phone}`)}`,
        now,
        DAY,
        ESCALATION_MAILS_PER_ADDRESS_PER_DAY,
      );
      if (!texted) return;
      const locale = pickLocale(row.locale);
      const t = translator(locale);
      await enqueueMessage(tx, now, this.platform.secrets, {
        channel: "sms",
        recipient: row.contact_phone,
        body: t(due < NO_DEADLINE ? "desk.sms.escalated" : "desk.sms.escalated_nodue", {
          ref: row.ref,
          team: team.name,
          due: due < NO_DEADLINE ? this.plainDue(due, locale, row.country) : "",
        }),
      });
      await this.addEvent(tx, row.id, "message_out", "system", { channel: "sms", kind: "escalated" });
    }
  }

  /** "Thursday 26 November, 14:00" in the customer's language and (when known) their country's time. */
  plainDue(at: number, locale: Locale, country: string | null): string {
    return new Intl.DateTimeFormat(locale, {
      weekday: "long",
      day: "numeric",
      month: "long",
      hour: "2-digit",
      minute: "2-digit",
      timeZone: zoneOfCountry(country),
    }).format(at);
  }

  // ---- agents -------------------------------------------------------------------------------

  private canSee(viewer: Viewer, row: { team: string }) {
    return viewer.kind === "service" || viewer.role !== "agent" || viewer.teams.includes(row.team);
  }

  /** The case for this viewer, or a coded refusal; every read of it by an agent is audited. */
  private async caseFor(tx: Tx, viewer: Viewer, ref: string): Promise<CaseRow> {
    const row = await store.findCaseByRef(tx, normaliseRef(ref));
    if (!row) throw new AppError("ERR_CASE_NOT_FOUND");
    if (!this.canSee(viewer, row)) throw new AppError("ERR_FORBIDDEN");
    return row;
  }

  async caseDetail(viewer: Viewer, ref: string) {
    return inTransaction(this.platform, async (tx) => {
      const row = await this.caseFor(tx, viewer, ref);
      await this.audit(tx, row, viewer, "case.read", { ref: row.ref });
      const [events, contacts] = await Promise.all([
        store.eventsOf(tx, row.id),
        store.contactsOf(tx, row.id),
      ]);
      // Who a public reply would be mailed to, so the agent sees it before writing.
      const replyTo = (await this.replyContact(tx, row))?.email ?? null;
      return { row, events, contacts, replyTo };
    });
  }

  async queue(viewer: Viewer, teamId: string, limit = 100) {
    const team = this.team(teamId);
    if (!this.canSee(viewer, { team: team.id })) throw new AppError("ERR_FORBIDDEN");
    const rows = await store.queueOf(this.platform.db, team.id, limit);
    if (viewer.kind === "agent")
      await inTransaction(this.platform, (tx) =>
        auditAgentAct(this.platform, tx, viewer, {
          type: "queue.read",
          detail: { team: team.id, cases: rows.length },
        }),
      );
    return { team, rows };
  }

  /** Cases by reference, address or phone number (typed any way: "+32 470 12 34 56" finds +32470123456). */
  async search(viewer: Viewer, term: string) {
    const typed = term.trim();
    const phone = /^[+0-9][0-9 ().-]{5,}$/.test(typed)
      ? parsePhoneNumberFromString(typed, (this.platform.config.defaultCountry ?? undefined) as never)
      : undefined;
    const normalised = phone?.isValid() ? phone.number : typed.toLowerCase();
    const teams = viewer.kind === "agent" && viewer.role === "agent" ? viewer.teams : undefined;
    const rows = (await store.searchCases(this.platform.db, normalised, 50, teams)).filter((r) =>
      this.canSee(viewer, r),
    );
    if (viewer.kind === "agent")
      await inTransaction(this.platform, (tx) =>
        auditAgentAct(this.platform, tx, viewer, { type: "case.search", detail: { results: rows.length } }),
      );
    return rows;
  }

  /**
   * A message on the case: public ones are mailed to the customer (the contact who wrote last, else
   * the first) and count as the team's response; internal ones are notes.
   */
  async addMessage(
    viewer: Viewer,
    ref: string,
    input: { body: string; visibility: "public" | "internal"; waitForCustomer?: boolean },
  ): Promise<{ id: string }> {
    const now = this.platform.clock.now();
    const result = await inTransaction(this.platform, async (tx) => {
      const row = await this.caseFor(tx, viewer, ref);
      if (input.visibility === "internal") {
        const id = await this.addEvent(tx, row.id, "note", actorName(viewer), {
          body: input.body,
          visibility: "internal",
        });
        await this.audit(tx, row, viewer, "case.note", { ref: row.ref });
        return { id };
      }
      if (row.status === "resolved") throw new AppError("ERR_CASE_RESOLVED");
      const contact = await this.replyContact(tx, row);
      const locale = pickLocale(row.locale);
      const id =
        contact && !(await isSuppressed(tx, contact.email))
          ? await this.cases.writeToContact(tx, row, contact, locale, {
              subjectKey: "desk.mail.reply.subject",
              bodyKey: "desk.mail.reply.body",
              params: { ref: row.ref, team: this.team(row.team).name, body: input.body },
              extra: { statusUrl: this.cases.contactStatusUrl(row.ref, contact, locale) },
              actor: actorName(viewer),
              detail: { body: input.body, visibility: "public" },
            })
          : await this.addEvent(tx, row.id, "message_out", actorName(viewer), {
              body: input.body,
              visibility: "public",
              to: null,
            });
      await this.audit(tx, row, viewer, "case.reply", { ref: row.ref });
      await this.teamAnswered(tx, row, now, input.waitForCustomer === true);
      return { id };
    });
    this.platform.wakeOutbox();
    return result;
  }

  /** The team answered: first response met, the next update owed from now, or waiting on the customer. */
  private async teamAnswered(tx: Tx, row: CaseRow, now: number, waitForCustomer: boolean) {
    if (row.first_response_at === null) {
      await store.updateCase(tx, row.id, { first_response_at: now });
      row.first_response_at = now;
    }
    if (waitForCustomer) {
      await this.cancelTierTimers(tx, row.id);
      await store.updateCase(tx, row.id, { status: "waiting", paused_at: now, next_due: NO_DEADLINE });
      Object.assign(row, { status: "waiting", paused_at: now });
      await this.addEvent(tx, row.id, "waiting", "system", {});
      return;
    }
    const targets = slaTargets(this.org, row.tier, row.priority, this.team(row.team));
    await this.applyDeadlines(
      tx,
      row,
      {
        firstResponse: null,
        nextUpdate:
          targets.nextUpdateMin !== undefined ? this.addBusiness(row.team, now, targets.nextUpdateMin) : null,
      },
      now,
    );
  }

  private async replyContact(tx: Tx, row: CaseRow) {
    const contacts = await store.contactsOf(tx, row.id);
    if (contacts.length === 0) return undefined;
    const events = await store.eventsOf(tx, row.id);
    const lastWriter = [...events]
      .reverse()
      .map((e) => (e.type === "message_in" ? (JSON.parse(e.detail) as { from?: string }).from : undefined))
      .find((from) => from !== undefined && contacts.some((c) => c.email === from));
    return (
      contacts.find((c) => c.email === lastWriter) ??
      contacts.find((c) => c.email === row.contact_email) ??
      contacts[0]
    );
  }

  /** An agent logs a call on a case (the phone system's own events come through logCall). */
  async logCallOnCase(viewer: Viewer, ref: string, summary: string): Promise<{ callId: string }> {
    return inTransaction(this.platform, async (tx) => {
      const row = await this.caseFor(tx, viewer, ref);
      const callId = await this.addEvent(tx, row.id, "call", actorName(viewer), {
        body: summary,
        loggedBy: "agent",
      });
      await this.audit(tx, row, viewer, "case.call_logged", { ref: row.ref });
      return { callId };
    });
  }

  async escalate(viewer: Viewer, ref: string, reason: string): Promise<{ tier: number; team: string }> {
    const result = await inTransaction(this.platform, async (tx) => {
      const row = await this.caseFor(tx, viewer, ref);
      if (row.status === "resolved") throw new AppError("ERR_CASE_RESOLVED");
      const target = await this.raise(tx, row, viewer, reason);
      if (!target) throw new AppError("ERR_CASE_AT_TOP_TIER");
      return { tier: target.tier, team: target.id };
    });
    this.platform.wakeOutbox();
    return result;
  }

  /** A supervisor moves a case to any team (its tier follows the team). */
  async reassign(
    viewer: Viewer,
    ref: string,
    teamId: string,
    reason: string,
  ): Promise<{ tier: number; team: string }> {
    if (viewer.kind === "agent" && viewer.role === "agent") throw new AppError("ERR_FORBIDDEN");
    const target = this.team(teamId);
    const result = await inTransaction(this.platform, async (tx) => {
      const row = await this.caseFor(tx, viewer, ref);
      if (row.status === "resolved") throw new AppError("ERR_CASE_RESOLVED");
      if (row.team !== target.id) await this.moveTo(tx, row, target, viewer, reason, "reassigned");
      return { tier: target.tier, team: target.id };
    });
    this.platform.wakeOutbox();
    return result;
  }

  async resolve(viewer: Viewer, ref: string): Promise<{ status: "resolved" }> {
    const now = this.platform.clock.now();
    await inTransaction(this.platform, async (tx) => {
      const row = await this.caseFor(tx, viewer, ref);
      if (row.status === "resolved") throw new AppError("ERR_CASE_RESOLVED");
      await this.cancelTierTimers(tx, row.id);
      await this.timers.cancel(tx, TIMER.customerClock, row.id);
      await store.updateCase(tx, row.id, {
        status: "resolved",
        resolved_at: now,
        paused_at: null,
        next_due: NO_DEADLINE,
        due_first_response: null,
        due_next_update: null,
        due_resolution: null,
        updated_at: now,
      });
      await this.addEvent(tx, row.id, "resolved", actorName(viewer), {});
      await this.audit(tx, row, viewer, "case.resolved", { ref: row.ref });
      await this.timers.schedule(tx, TIMER.survey, row.id, now + SURVEY_DELAY_MS);
    });
    return { status: "resolved" };
  }

  // ---- the customer's side ------------------------------------------------------------------

  /** Who holds a case and when the person hears from us next, for the page after "I can't reach any of these". */
  async publicSummary(
    ref: string,
  ): Promise<{ team: Team; due: number | null; country: string | null } | null> {
    const row = await store.findCaseByRef(this.platform.db, ref);
    if (!row) return null;
    const at = Number(row.next_due);
    return {
      team: this.team(row.team),
      due: row.status === "open" && at < NO_DEADLINE ? at : null,
      country: row.country,
    };
  }

  /** When the customer will hear from us next, or null (resolved, waiting on them, no deadline). */
  async nextDueOf(ref: string): Promise<number | null> {
    const row = await store.findCaseByRef(this.platform.db, ref);
    const at = row ? Number(row.next_due) : NO_DEADLINE;
    return row?.status === "open" && at < NO_DEADLINE ? at : null;
  }

  /** A reply from the status page: only the contact whose token it is may write, on their case. */
  async replyFromStatusPage(ref: string, token: string, body: string): Promise<void> {
    const status = await this.cases.statusForToken(token);
    if (!status || status.ref !== normaliseRef(ref)) throw new AppError("ERR_NOT_FOUND");
    const now = this.platform.clock.now();
    await inTransaction(this.platform, async (tx) => {
      const row = await this.mustFind(tx, status.caseId);
      const contact = await store.findContactById(tx, status.contactId);
      await this.addEvent(tx, row.id, "message_in", `contact:${status.contactId}`, {
        channel: "web",
        from: contact?.email,
        body,
        contactId: status.contactId,
      });
      await this.customerSpoke(tx, row, now);
    });
    this.platform.wakeOutbox();
  }

  private async sendSurvey(tx: Tx, caseId: string) {
    const row = await store.findCaseById(tx, caseId);
    if (row?.status !== "resolved" || (await store.surveyOfCase(tx, caseId))) return;
    const events = await store.eventsOf(tx, caseId);
    const autoResponders = new Set(
      events
        .filter((e) => e.type === "auto_reply")
        .map((e) => (JSON.parse(e.detail) as { from?: string }).from),
    );
    const contacts = await store.contactsOf(tx, caseId);
    const ordered = [
      ...contacts.filter((c) => c.email === row.contact_email),
      ...contacts.filter((c) => c.email !== row.contact_email),
    ];
    let contact: (typeof contacts)[number] | undefined;
    for (const c of ordered)
      if (!autoResponders.has(c.email) && !(await isSuppressed(tx, c.email))) {
        contact = c;
        break;
      }
    if (!contact) return;
    const now = this.platform.clock.now();
    const token = randomToken(32);
    await store.insertSurvey(tx, {
      id: newId(),
      case_id: caseId,
      contact_id: contact.id,
      token_hash: this.platform.secrets.hmac(`survey:${token}`),
      created_at: now,
      sent_at: now,
      answered_at: null,
      voided_at: null,
      score: null,
      comment: null,
    });
    const locale = pickLocale(row.locale);
    await this.cases.writeToContact(tx, row, contact, locale, {
      subjectKey: "desk.mail.survey.subject",
      bodyKey: "desk.mail.survey.body",
      params: { ref: row.ref },
      extra: { surveyUrl: `${this.platform.config.publicUrl}/survey?token=${token}&lang=${locale}` },
      type: "survey_sent",
    });
  }

  private async voidSurvey(tx: Tx, caseId: string, now: number) {
    await this.timers.cancel(tx, TIMER.survey, caseId);
    await tx
      .updateTable("case_surveys")
      .set({ voided_at: now })
      .where("case_id", "=", caseId)
      .where("answered_at", "is", null)
      .where("voided_at", "is", null)
      .execute();
    await tx
      .deleteFrom("case_surveys")
      .where("case_id", "=", caseId)
      .where("voided_at", "is not", null)
      .execute();
  }

  async surveyFor(token: string) {
    if (token.length < 20 || token.length > 100) return undefined;
    const survey = await store.findSurveyByTokenHash(
      this.platform.db,
      this.platform.secrets.hmac(`survey:${token}`),
    );
    if (!survey || survey.voided_at !== null) return undefined;
    const row = await store.findCaseById(this.platform.db, survey.case_id);
    return row ? { survey, ref: row.ref, locale: pickLocale(row.locale) } : undefined;
  }

  /** Records the answer once; the link is spent after. */
  async answerSurvey(token: string, score: number, comment: string | null): Promise<boolean> {
    const found = await this.surveyFor(token);
    if (!found) throw new AppError("ERR_NOT_FOUND");
    const now = this.platform.clock.now();
    return inTransaction(this.platform, async (tx) => {
      const answered = await store.answerSurvey(tx, found.survey.id, { score, comment, at: now });
      if (answered)
        await this.addEvent(
          tx,
          found.survey.case_id,
          "survey_answered",
          `contact:${found.survey.contact_id}`,
          {
            score,
            comment,
          },
        );
      return answered;
    });
  }

  // ---- shared -------------------------------------------------------------------------------

  /** Headers of every mail about a case: a signed Message-ID, and a reply-to that threads the answer. */
  mailHeaders(
    row: { ref: string; team: string },
    options: { autoReplied?: boolean; inReplyTo?: string },
  ): MailHeaders {
    const team = teamById(this.org, row.team) ?? tier1Team(this.org, "other", null);
    return {
      replyTo: plusAddress(team.email, row.ref),
      autoSubmitted: options.autoReplied ? "auto-replied" : "auto-generated",
      ...(options.inReplyTo ? { inReplyTo: options.inReplyTo, references: [options.inReplyTo] } : {}),
    };
  }

  private async mustFind(tx: Tx, id: string): Promise<CaseRow> {
    const row = await store.findCaseById(tx, id);
    if (!row) throw new AppError("ERR_CASE_NOT_FOUND");
    return row;
  }

  private async addEvent(
    tx: Tx,
    caseId: string,
    type: string,
    actor: string,
    detail: Record<string, unknown>,
  ) {
    const id = newEventId();
    await store.insertCaseEvent(tx, {
      id,
      case_id: caseId,
      at: this.platform.clock.now(),
      type,
      actor,
      detail: JSON.stringify(detail),
      // What the contact wrote shows on their own status page, beside what we wrote to them.
      contact_id: type === "message_in" && typeof detail.contactId === "string" ? detail.contactId : null,
    });
    return id;
  }

  /** Agent acts go to the agent's audit chain, and to the account's when the case has one. */
  private async audit(tx: Tx, row: CaseRow, actor: Actor, type: string, detail: Record<string, unknown>) {
    // Agents' and integrations' reads and acts go to their own chain (`agent:<id>`, `service`).
    if (actor.kind !== "system") await auditAgentAct(this.platform, tx, actor, { type, detail });
    if (row.account_id)
      await auditAccount(this.platform, tx, row.account_id, { type, actor: actorName(actor), detail });
  }

  /** The timeline as the API shows it. */
  timeline(events: Array<{ id: string; at: number | string; type: string; actor: string; detail: string }>) {
    return events.map((e) => {
      const detail = JSON.parse(e.detail) as Record<string, unknown>;
      const { subjectKey: _s, bodyKey: _b, params: _p, ...rest } = detail;
      return {
        id: e.id,
        at: new Date(Number(e.at)).toISOString(),
        type: timelineType(e.type),
        actor: e.actor,
        ...rest,
      };
    });
  }
}

const zones = new Map<string, string>();

/** A country's main time zone (for "by Thursday 14:00" in the customer's own time), else UTC. */
function zoneOfCountry(country: string | null): string {
  if (!country || !/^[A-Z]{2}$/.test(country)) return "UTC";
  let zone = zones.get(country);
  if (zone === undefined) {
    zone = mainTimeZoneOf(country) ?? "UTC";
    zones.set(country, zone);
  }
  return zone;
}
