import { hash } from "node:crypto";
import { maskAlternate, normalizeEmail, normalizePhone } from "../accounts/model.js";
import type { AccountsService } from "../accounts/service.js";
import { type Executor, lockKey, type Tx } from "../db/database.js";
import type { RecoveriesTable } from "../db/schema.js";
import type { CasesService } from "../desk/cases.js";
import { CODE_MARK, codeSecretsOf, LINK_TOKEN_MARK } from "../messaging/code-message.js";
import { notify } from "../messaging/notifier.js";
import { countAct, openWindowOf } from "../platform/caps.js";
import { DAY, HOUR, MINUTE } from "../platform/clock.js";
import {
  auditAccount,
  auditSubject,
  inAddressTransaction,
  inTransaction,
  type Platform,
} from "../platform/context.js";
import { AppError, type ErrorCode } from "../platform/errors.js";
import { formatInstant, type Locale, pickLocale, translator } from "../platform/i18n.js";
import { newId, newRecoveryId } from "../platform/ids.js";
import { randomToken } from "../platform/secrets.js";
import {
  codeInput,
  codeTtlMs,
  firstAttemptOf,
  isWellFormedCode,
  LONGEST_CODE_TTL_MS,
  looksLikePhone,
  PASSWORD_STEP_TTL_MS,
  typedPhoneForDisplay,
} from "./model.js";
import * as store from "./store.js";

type RecoveryStep = NonNullable<Awaited<ReturnType<typeof store.findRecoveryStep>>>;

export interface RecoveryView {
  id: string;
  state: RecoveriesTable["state"];
  locale: Locale;
  code: { channel: "email" | "phone"; destination: string; expiresAt: number } | null;
  caseRef: string | null;
  caseSince: number | null;
  /** The contact this recovery gave, masked (a page never shows another contact's address). */
  contactMasked: string | null;
}

/** What confirming a code (typed or by the mail's link) hands out: only its holder sets the password. */
export interface Confirmed {
  recoveryId: string;
  passwordToken: string;
}

const ACTOR = "user";

/** The recovery read, or ERR_RECOVERY_NOT_FOUND. */
const found = <T>(recovery: T | undefined): T => {
  if (!recovery) throw new AppError("ERR_RECOVERY_NOT_FOUND");
  return recovery;
};

/** The longest window of any cap (wrong codes per day): counters older than this are deleted. */
const LONGEST_CAP_WINDOW_MS = DAY;

/**
 * The self-service journey. Every answer before the code is the same whether or not the account
 * exists, is locked, or has the alternate typed: only the owner of a verified alternate gets a code.
 */
export class RecoveryService {
  constructor(
    private readonly platform: Platform,
    private readonly accounts: AccountsService,
    private readonly cases: CasesService,
  ) {}

  private now() {
    return this.platform.clock.now();
  }

  private codeHash(codeId: string, code: string) {
    return this.platform.secrets.hmac(`code:${codeId}:${code}`);
  }

  /**
   * Recovery ids are handles that must not leak: the audit log holds a hash of them. Unkeyed: the
   * 135 random bits of an id cannot be guessed back from it, and a one-shot SHA-256 costs a
   * quarter of an HMAC (on every step of every recovery).
   */
  private recoveryRef(id: string) {
    return hash("sha256", `recovery-ref:${id}`, "base64url").slice(0, 22);
  }

  private passwordTokenKey(id: string, token: string) {
    return `password-token:${id}:${token}`;
  }

  private linkTokenHash(token: string) {
    return this.platform.secrets.hmac(`recovery-link:${token}`);
  }

  /** A cap's counter key: an HMAC, so addresses, sources and destinations are never stored in clear. */
  private capKey(kind: string, ...parts: string[]) {
    return `${kind}:${this.platform.secrets.hmac(`cap:${kind}:${parts.join("\u0000")}`)}`;
  }

  private inAddressTransaction<T>(address: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    return inAddressTransaction(this.platform, address, work);
  }

  /**
   * One use-case's transaction about recovery `id` (ERR_RECOVERY_NOT_FOUND without it). On SQLite
   * the recovery is read in the transaction: the group commit runs one use-case at a time, and a
   * read outside it opens a snapshot of its own (16-23 µs under load, against 7 in the batch).
   * On PostgreSQL it is read first, to queue the transaction behind the others about its address.
   */
  private async inRecoveryTransaction<T>(id: string, work: (tx: Tx, recovery: RecoveryStep) => Promise<T>) {
    if (this.platform.dialect === "sqlite")
      return inTransaction(this.platform, async (tx) => work(tx, await this.requireRecoveryStep(id, tx)));
    const recovery = await this.requireRecoveryStep(id, this.platform.db);
    return this.inAddressTransaction(recovery.address, (tx) => work(tx, recovery));
  }

  private async requireRecoveryStep(id: string, db: Executor) {
    return found(await store.findRecoveryStep(db, id));
  }

  private lastPrunedAt = Number.NEGATIVE_INFINITY;

  /**
   * Keeps the cap counters bounded: what no window looks at any more is deleted, at most once a
   * minute per node (a delete on every start cost a third of its throughput; counts ignore old rows).
   */
  private async pruneOldHits(tx: Tx) {
    const now = this.now();
    if (now - this.lastPrunedAt < MINUTE) return;
    this.lastPrunedAt = now;
    await store.pruneCounters(tx, now - LONGEST_CAP_WINDOW_MS);
  }

  /** Refuses with `code` when `key` has used up `limit` acts in its window, saying how long to wait. */
  private async refuseWhenCapped(tx: Tx, key: string, limit: number, windowMs: number, code: ErrorCode) {
    await lockKey(tx, this.platform.dialect, `cap:${key}`);
    const window = await openWindowOf(tx, key, this.now(), windowMs);
    if (window && window.count >= limit) throw this.capped(code, window.start, windowMs);
  }

  /**
   * Counts one act of `key` if its cap allows it, in one statement (the hot path of every start and
   * code request), else refuses with `code`. Inside the caller's transaction. Parallel requests on
   * several nodes cannot pass the cap: the upsert holds the key's row until the transaction ends, and
   * on PostgreSQL checks the cap against that row's latest version (it waits for a writer of the key,
   * even of its first row), so no lock is taken before it (that was a round trip of every start). A
   * window starts at its first act: over any run of windows no more than `limit` acts per window are counted.
   */
  private async countWithinCap(tx: Tx, key: string, limit: number, windowMs: number, code: ErrorCode) {
    const now = this.now();
    if (await countAct(tx, key, now, windowMs, limit)) return;
    const window = await openWindowOf(tx, key, now, windowMs);
    throw this.capped(code, window?.start ?? now, windowMs);
  }

  private capped(code: ErrorCode, windowStart: number, windowMs: number) {
    const retryAfter = Math.max(Math.ceil((windowStart + windowMs - this.now()) / 1000), 1);
    return new AppError(
      code,
      { retryAfter },
      { retryAfterMinutes: Math.ceil(retryAfter / 60), retryAfterHours: Math.ceil(retryAfter / 3600) },
    );
  }

  /**
   * Starts a recovery. Capped per address AND source (IP, or /64): strangers starting recoveries
   * for an address from elsewhere never block its owner. The page's language is the request's only.
   */
  async start(
    rawAddress: string,
    requestedLocale: string | null,
    acceptLanguage: string | null,
    source: string,
  ): Promise<{ recoveryId: string }> {
    const address = normalizeEmail(rawAddress);
    if (!address) throw new AppError("ERR_VALIDATION", { field: "address" });
    const id = newRecoveryId();
    const startKey = this.capKey("start", address, source);
    const locale = pickLocale(requestedLocale, acceptLanguage);
    await this.inAddressTransaction(address, async (tx) => {
      // Read in the transaction: on SQLite a read of its own starts a snapshot of its own.
      const accountId = await this.accounts.idOf(address, tx);
      await this.countWithinCap(
        tx,
        startKey,
        this.platform.config.limits.recoveriesPerAccountPerHour,
        HOUR,
        "ERR_TOO_MANY_STARTS",
      );
      await this.pruneOldHits(tx);
      await this.insertRecovery(tx, id, address, accountId, locale);
    });
    return { recoveryId: id };
  }

  private async insertRecovery(
    tx: Tx,
    id: string,
    address: string,
    accountId: string | null,
    locale: Locale,
  ) {
    await store.insertRecovery(tx, { id, address, account_id: accountId, locale, started_at: this.now() });
    const ref = this.recoveryRef(id);
    await auditSubject(
      this.platform,
      tx,
      { accountId, address },
      { type: "recovery.started", actor: ACTOR, detail: { recovery: ref } },
    );
    await this.cases.noteRecoveryAttempt(tx, address, ref);
  }

  private async requireRecovery(id: string, db: Executor = this.platform.db) {
    return found(await store.findRecovery(db, id));
  }

  /**
   * The person types in full a backup address or number. A code goes there only if it is a verified
   * alternate of the account; otherwise a decoy code row that can never match keeps the answer and
   * the counting identical. Caps count per typed destination, so requests to other destinations
   * never use up the owner's budget, and a decoy never voids a real code of another recovery.
   */
  async chooseChannel(id: string, kind: "email" | "phone", rawValue: string): Promise<void> {
    // Before anything else, so the answer is the same for every account and every recovery id.
    if (kind === "phone" && !this.platform.channels.sms) throw new AppError("ERR_CHANNEL_UNAVAILABLE");
    if (kind === "email" && !this.platform.channels.email) throw new AppError("ERR_EMAIL_UNAVAILABLE");
    const match = await this.inRecoveryTransaction(id, async (tx, recovery) => {
      // Once the code is confirmed, only the holder of the password token moves the recovery: a new
      // code from someone else who knows the id would undo her step. After the 30 minutes for the
      // password ran out, a new code may be asked (and must then be confirmed).
      if (recovery.state === "done") throw new AppError("ERR_RECOVERY_STEP");
      if (
        recovery.state === "set_password" &&
        this.now() - Number(recovery.verified_at) <= PASSWORD_STEP_TTL_MS
      )
        throw new AppError("ERR_RECOVERY_STEP");
      if (rawValue.trim() === "") throw new AppError("ERR_BACKUP_EMPTY", { field: "value" });
      const email = kind === "email" ? normalizeEmail(rawValue) : null;
      const looksValid = kind === "email" ? email !== null : looksLikePhone(rawValue);
      if (!looksValid)
        throw new AppError(kind === "email" ? "ERR_VALIDATION" : "ERR_PHONE_INVALID", { field: "value" });

      const now = this.now();
      const codeId = newId();
      const expiresAt = now + codeTtlMs[kind];
      // What was typed, read the same way for every account (never in the account's country): the
      // page's mask looks the same for any account, and like the masks elsewhere; and the cap's key,
      // read in the account's country, would tell accounts (and their country) apart.
      const typed = email ?? typedPhoneForDisplay(rawValue, this.platform.config.defaultCountry);
      const masked = maskAlternate(kind, typed);
      const destinationKey = this.capKey("destination", recovery.address, kind, typed);
      // The same look-ups whether or not the address has an account: timing tells nothing.
      const account = await this.accounts.reachOf(recovery.account_id, tx);
      const value = email ?? normalizePhone(rawValue, account?.country);
      // The person typed both: saying so reveals nothing, and sends nothing.
      if (kind === "email" && value === recovery.address)
        throw new AppError("ERR_BACKUP_IS_ACCOUNT", { field: "value" });
      // Never an unverified alternate.
      const match =
        value !== null
          ? account?.verifiedAlternates.find((a) => a.kind === kind && a.value === value)
          : undefined;
      // Drawn and hashed whether or not what was typed matched, and kept only for a real code: a right
      // backup answered two HMACs (about 6 µs) slower than a wrong one. The mail carries them as
      // markers, filled in when it is sent (code-message.ts).
      const { code, linkToken } = codeSecretsOf(this.platform.secrets, codeId);
      const codeHash = this.codeHash(codeId, code);
      const linkTokenHash = this.linkTokenHash(linkToken);
      // Messages to the account's own verified alternates speak the account's language.
      const mailLocale = pickLocale(account?.locale, recovery.locale);
      const t = translator(mailLocale);
      // One writer per address at a time: only one real code is ever live.
      await lockKey(tx, this.platform.dialect, `codes:${recovery.address}`);
      await this.countWithinCap(
        tx,
        destinationKey,
        this.platform.config.limits.codesPerAccountPerHour,
        HOUR,
        "ERR_TOO_MANY_CODES",
      );
      // The new code voids this recovery's older codes, and a real one the address's other real codes;
      // a decoy runs the same statements with an address that matches nothing (same work, nothing real).
      await store.voidCodesBeforeNew(
        tx,
        this.platform.dialect,
        id,
        match ? recovery.address : "",
        now,
        LONGEST_CODE_TTL_MS,
      );
      await store.insertCode(tx, {
        id: codeId,
        recovery_id: id,
        address: recovery.address,
        channel: kind,
        destination_masked: masked,
        code_hash: match ? codeHash : null,
        attempts: 0,
        created_at: now,
        expires_at: expiresAt,
        used_at: null,
        voided_at: null,
        link_token_hash: match && kind === "email" ? linkTokenHash : null,
      });
      // Checked again where it changes: a code confirmed since the read above stands. On SQLite that
      // read was in this transaction, and a recovery it found waiting for a code needs no write (an
      // unchanged row is written all the same: a page more in the log at each commit).
      const waiting = this.platform.dialect === "sqlite" && recovery.state === "enter_code";
      if (!waiting && !(await store.awaitCode(tx, id, now - PASSWORD_STEP_TTL_MS)))
        throw new AppError("ERR_RECOVERY_STEP");
      const link = `${this.platform.config.publicUrl}/recover/link?token=${LINK_TOKEN_MARK}&lang=${mailLocale}`;
      await notify(tx, this.platform, {
        to: { kind, value: match?.value ?? "" },
        subject: t("mail.code.subject"),
        body: t("mail.code.body", { code: CODE_MARK, link, account: recovery.address }),
        sms: t("sms.code.body", { code: CODE_MARK }),
        codeId,
        decoy: !match,
      });
      await auditSubject(
        this.platform,
        tx,
        { accountId: recovery.account_id, address: recovery.address },
        {
          type: match ? "recovery.code_sent" : "recovery.code_refused",
          actor: ACTOR,
          detail: {
            recovery: this.recoveryRef(id),
            channel: kind,
            to: masked,
            ...(match ? { expiresAt } : { reason: "not_a_verified_alternate" }),
          },
        },
      );
      return match;
    });
    if (match) this.platform.wakeOutbox();
  }

  /** Moves a confirmed recovery to the password step and hands out its one-time password token. */
  private async markConfirmed(
    tx: Tx,
    recovery: { id: string; account_id: string | null },
    codeId: string,
    channel: string,
    via: "typed" | "link",
  ): Promise<Confirmed> {
    const now = this.now();
    const passwordToken = randomToken(32);
    const advanced =
      (await store.markCodeUsed(tx, codeId, now)) &&
      (await store.advanceRecovery(tx, recovery.id, "enter_code", {
        state: "set_password",
        verified_at: now,
        password_token_hash: this.platform.secrets.hmac(this.passwordTokenKey(recovery.id, passwordToken)),
      }));
    // Someone confirmed this code first (a second tab, a double click): a clear 409, not "wrong code".
    if (!advanced) throw new AppError("ERR_RECOVERY_STEP");
    if (recovery.account_id)
      await auditAccount(this.platform, tx, recovery.account_id, {
        type: "recovery.code_verified",
        actor: ACTOR,
        detail: { recovery: this.recoveryRef(recovery.id), channel, via },
      });
    return { recoveryId: recovery.id, passwordToken };
  }

  /**
   * A typed code. Only a well-formed 6-digit code is a try. Besides the tries of each code, wrong
   * codes are capped per address and day across all its recoveries, for known and unknown addresses
   * alike; the mail's link is not subject to that budget.
   */
  async confirmCode(id: string, rawCode: string): Promise<Confirmed> {
    const recovery = await this.requireRecovery(id);
    if (recovery.state !== "enter_code") throw new AppError("ERR_RECOVERY_STEP");
    if (!isWellFormedCode(rawCode)) throw new AppError("ERR_CODE_FORMAT", { field: "code" });
    const code = await store.latestCodeOf(this.platform.db, id);
    if (!code) throw new AppError("ERR_RECOVERY_STEP");
    const now = this.now();
    const { triesPerCode, wrongCodesPerAddressPerDay } = this.platform.config.limits;
    if (code.attempts >= triesPerCode) throw new AppError("ERR_TOO_MANY_ATTEMPTS");
    if (now >= code.expires_at) throw new AppError("ERR_CODE_EXPIRED");

    const typed = codeInput(rawCode);
    const matches = this.platform.secrets.matches(`code:${code.id}:${typed}`, code.code_hash);
    // The right code from an older mail: say a newer one was sent, using no try (only its holder sees this).
    if (matches && code.voided_at !== null) throw new AppError("ERR_CODE_SUPERSEDED");
    if (!matches) {
      const older = await store.voidedCodesOf(this.platform.db, id);
      if (older.some((o) => this.platform.secrets.matches(`code:${o.id}:${typed}`, o.code_hash)))
        throw new AppError("ERR_CODE_SUPERSEDED");
    }
    const wrongKey = this.capKey("wrong-code", recovery.address);
    const outcome = await this.inAddressTransaction(recovery.address, async (tx) => {
      await this.refuseWhenCapped(tx, wrongKey, wrongCodesPerAddressPerDay, DAY, "ERR_TOO_MANY_WRONG_CODES");
      if (!(await store.takeCodeTry(tx, code.id, triesPerCode))) return "exhausted" as const;
      if (matches) return this.markConfirmed(tx, recovery, code.id, code.channel, "typed");
      await countAct(tx, wrongKey, now, DAY, null);
      const attemptsLeft = Math.max(triesPerCode - (code.attempts + 1), 0);
      await auditSubject(
        this.platform,
        tx,
        { accountId: recovery.account_id, address: recovery.address },
        {
          type: "recovery.code_failed",
          actor: ACTOR,
          detail: { recovery: this.recoveryRef(id), attemptsLeft },
        },
      );
      return attemptsLeft;
    });
    if (outcome === "exhausted") throw new AppError("ERR_TOO_MANY_ATTEMPTS");
    if (typeof outcome === "number")
      throw new AppError("ERR_CODE_INVALID", { attemptsLeft: outcome }, { attemptsLeft: outcome });
    return outcome;
  }

  /**
   * The mail's link: its long token proves the mail was read, as the code does, so it is not subject
   * to the budget of typed guesses. Only the POST that confirms it comes here (a GET changes nothing).
   */
  async confirmLink(token: string): Promise<Confirmed> {
    if (token.length < 20 || token.length > 100) throw new AppError("ERR_LINK_INVALID");
    const code = await store.findCodeByLinkToken(this.platform.db, this.linkTokenHash(token));
    if (!code) throw new AppError("ERR_LINK_INVALID");
    if (code.voided_at !== null) throw new AppError("ERR_CODE_SUPERSEDED");
    if (this.now() >= code.expires_at) throw new AppError("ERR_CODE_EXPIRED");
    const recovery = await this.requireRecovery(code.recovery_id);
    if (recovery.state !== "enter_code" || code.used_at !== null) throw new AppError("ERR_RECOVERY_STEP");
    return this.inAddressTransaction(recovery.address, (tx) =>
      this.markConfirmed(tx, recovery, code.id, code.channel, "link"),
    );
  }

  async setPassword(
    id: string,
    password: string,
    passwordToken: string,
    deviceId: string | null = null,
  ): Promise<{ heldBy: string | null; caseRef: string | null }> {
    const recovery = await this.requireRecovery(id);
    if (recovery.state !== "set_password" || !recovery.account_id) throw new AppError("ERR_RECOVERY_STEP");
    if (
      !this.platform.secrets.matches(this.passwordTokenKey(id, passwordToken), recovery.password_token_hash)
    )
      throw new AppError("ERR_PASSWORD_TOKEN");
    const now = this.now();
    if (now - Number(recovery.verified_at) > PASSWORD_STEP_TTL_MS) throw new AppError("ERR_RECOVERY_EXPIRED");
    const account = await this.accounts.findById(recovery.account_id);
    if (!account) throw new AppError("ERR_RECOVERY_NOT_FOUND");
    // The hint follows the page's language, like every answer.
    const checked = await this.accounts.checkNewPassword(account, password, recovery.locale as Locale);
    if (!checked.ok) throw checked.error;
    // The notices go to the account's own address and verified alternates: the account's language.
    const accountLocale = pickLocale(account.locale);
    const t = translator(accountLocale);

    const result = await this.inAddressTransaction(recovery.address, async (tx) => {
      if (
        !(await store.advanceRecovery(tx, id, "set_password", {
          state: "done",
          completed_at: now,
          password_token_hash: null,
        }))
      )
        throw new AppError("ERR_RECOVERY_STEP");
      const heldBy = await this.accounts.setNewPassword(tx, account.id, checked.accepted, ACTOR, deviceId);
      await store.voidLiveCodes(tx, recovery.address, now, LONGEST_CODE_TTL_MS);
      await store.endOtherRecoveries(tx, account.id, id, now);
      await auditAccount(this.platform, tx, account.id, {
        type: "recovery.completed",
        actor: ACTOR,
        detail: { recovery: this.recoveryRef(id) },
      });

      // Tell every verified alternate and the primary address: the real owner must hear of a takeover.
      const helpUrl = `${this.platform.config.publicUrl}/?lang=${accountLocale}`;
      const at = formatInstant(now, accountLocale);
      const recipients = [
        { kind: "email" as const, value: account.address },
        ...(await this.accounts.verifiedAlternates(account.id, tx)),
      ];
      for (const to of recipients)
        await notify(tx, this.platform, {
          to,
          subject: t("mail.recovered.subject"),
          body: t("mail.recovered.body", { account: account.address, at, helpUrl }),
          sms: t("sms.recovered.body", { account: account.address, helpUrl }),
        });
      await auditAccount(this.platform, tx, account.id, {
        type: "recovery.notified",
        actor: "system",
        detail: { recipients: recipients.map((r) => maskAlternate(r.kind, r.value)) },
      });

      let caseRef: string | null = null;
      if (heldBy) {
        const opened = await this.cases.openOrJoin(tx, {
          accountId: account.id,
          accountAddress: account.address,
          contactEmail: null,
          via: "recovery_lock_held",
          locale: recovery.locale,
          source: "recovery_lock_held",
          firstAttemptAt: await this.firstAttempt(tx, recovery.address, Number(recovery.started_at)),
          actor: ACTOR,
          detail: { lock: heldBy },
          country: account.country,
        });
        caseRef = opened.ref;
        await store.updateRecovery(tx, id, { case_id: opened.id });
      }
      return { heldBy, caseRef };
    });
    this.platform.wakeOutbox();
    return result;
  }

  private async firstAttempt(tx: Tx, address: string, fallback: number): Promise<number> {
    const attempts = await store.attemptsOf(tx, address, this.now() - 90 * DAY);
    return (
      firstAttemptOf(
        attempts.map((a) => ({
          startedAt: Number(a.started_at),
          completedAt: a.completed_at === null ? null : Number(a.completed_at),
        })),
      ) ?? fallback
    );
  }

  /**
   * "I can't reach any of these": never a dead end, and capped by nothing a stranger can fill.
   * Opens (or joins) a case; the contact is added to it, never put in place of another.
   */
  async reportNoAccess(id: string, rawContact: string): Promise<{ caseRef: string }> {
    const recovery = await this.requireRecovery(id);
    if (recovery.state === "done") throw new AppError("ERR_RECOVERY_STEP");
    if (rawContact.trim() === "") throw new AppError("ERR_CONTACT_EMPTY", { field: "contactEmail" });
    const contact = normalizeEmail(rawContact);
    if (!contact) throw new AppError("ERR_VALIDATION", { field: "contactEmail" });
    if (contact === recovery.address) throw new AppError("ERR_CONTACT_IS_ACCOUNT");

    const caseRef = await this.inAddressTransaction(recovery.address, async (tx) => {
      // One contact per recovery: asking again with the same address is harmless, with another it is
      // refused (each new contact is mailed, so a recovery id must not relay mail to a list).
      const current = (await store.findRecovery(tx, id))!;
      if (current.case_contact_id) {
        const given = await this.cases.findContactById(current.case_contact_id, tx);
        const kase = current.case_id ? await this.cases.findById(current.case_id, tx) : undefined;
        if (given?.email !== contact || !kase) throw new AppError("ERR_RECOVERY_STEP");
        return kase.ref;
      }
      return this.openCaseFor(tx, recovery, contact);
    });
    this.platform.wakeOutbox();
    return { caseRef };
  }

  private async openCaseFor(
    tx: Tx,
    recovery: NonNullable<Awaited<ReturnType<typeof store.findRecovery>>>,
    contact: string,
  ): Promise<string> {
    const opened = await this.cases.openOrJoin(tx, {
      accountId: recovery.account_id,
      accountAddress: recovery.address,
      contactEmail: contact,
      via: "recovery_no_access",
      locale: recovery.locale,
      source: "recovery_no_access",
      firstAttemptAt: await this.firstAttempt(tx, recovery.address, Number(recovery.started_at)),
      actor: ACTOR,
      detail: { recovery: this.recoveryRef(recovery.id) },
      // The account's country picks the country team (the same query runs when there is no account).
      country: (await this.accounts.findById(recovery.account_id, tx))?.country ?? null,
    });
    await store.updateRecovery(tx, recovery.id, { case_id: opened.id, case_contact_id: opened.contactId });
    return opened.ref;
  }

  /**
   * "I can't reach any of these" straight from a page that could not start a recovery (its cap was
   * full): opens the case without the start cap, so noise on the start never blocks this path.
   */
  async reportNoAccessWithoutRecovery(
    rawAddress: string,
    rawContact: string,
    requestedLocale: string | null,
    acceptLanguage: string | null,
    source: string,
  ): Promise<{ recoveryId: string; caseRef: string }> {
    if (rawAddress.trim() === "") throw new AppError("ERR_ADDRESS_EMPTY", { field: "address" });
    const address = normalizeEmail(rawAddress);
    if (!address) throw new AppError("ERR_VALIDATION", { field: "address" });
    if (rawContact.trim() === "") throw new AppError("ERR_CONTACT_EMPTY", { field: "contactEmail" });
    const contact = normalizeEmail(rawContact);
    if (!contact) throw new AppError("ERR_VALIDATION", { field: "contactEmail" });
    if (contact === address) throw new AppError("ERR_CONTACT_IS_ACCOUNT");
    const accountId = await this.accounts.idOf(address);
    const id = newRecoveryId();
    // Its own cap, per address and source: the start cap's noise does not reach it.
    const noAccessKey = this.capKey("no-access", address, source);
    const caseRef = await this.inAddressTransaction(address, async (tx) => {
      await this.countWithinCap(
        tx,
        noAccessKey,
        this.platform.config.limits.recoveriesPerAccountPerHour,
        HOUR,
        "ERR_TOO_MANY_STARTS",
      );
      await this.insertRecovery(tx, id, address, accountId, pickLocale(requestedLocale, acceptLanguage));
      return this.openCaseFor(tx, (await store.findRecovery(tx, id))!, contact);
    });
    this.platform.wakeOutbox();
    return { recoveryId: id, caseRef };
  }

  /** What the pages show of a recovery: masked destination, state, case reference. */
  async view(id: string): Promise<RecoveryView> {
    const recovery = await this.requireRecovery(id);
    const code = await store.latestCodeOf(this.platform.db, id);
    const kase = recovery.case_id ? await this.cases.findById(recovery.case_id) : undefined;
    const contact = recovery.case_contact_id
      ? await this.cases.findContactById(recovery.case_contact_id)
      : null;
    return {
      id,
      state: recovery.state,
      locale: recovery.locale as Locale,
      code: code
        ? { channel: code.channel, destination: code.destination_masked, expiresAt: Number(code.expires_at) }
        : null,
      caseRef: kase?.ref ?? null,
      caseSince: kase ? Number(kase.first_attempt_at) : null,
      contactMasked: contact ? maskAlternate("email", contact.email) : null,
    };
  }

  /** After the code: the open case of this address, if any, so the page can mention it. */
  async openCaseAfterConfirmation(id: string): Promise<string | null> {
    const recovery = await this.requireRecovery(id);
    if (recovery.state !== "set_password") return null;
    return (await this.cases.openCaseRefOf(recovery.address)) ?? null;
  }
}
