import { maskAlternate, normalizeEmail, normalizePhone } from "../accounts/model.js";
import type { AccountsService } from "../accounts/service.js";
import type { CasesService } from "../cases/service.js";
import { lockKey } from "../db/database.js";
import type { RecoveriesTable } from "../db/schema.js";
import { enqueueMessage } from "../messaging/outbox.js";
import { HOUR } from "../platform/clock.js";
import { auditAccount, auditSubject, inTransaction, type Platform } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { formatInstant, type Locale, pickLocale, translator } from "../platform/i18n.js";
import { newId, newRecoveryId } from "../platform/ids.js";
import { sixDigitCode } from "../platform/secrets.js";
import {
  codeInput,
  codeTtlMs,
  firstAttemptOf,
  LONGEST_CODE_TTL_MS,
  looksLikePhone,
  PASSWORD_STEP_TTL_MS,
} from "./model.js";
import * as store from "./store.js";

export interface RecoveryView {
  id: string;
  state: RecoveriesTable["state"];
  locale: Locale;
  code: { channel: "email" | "phone"; destination: string; expiresAt: number } | null;
  caseRef: string | null;
  caseSince: number | null;
  contactEmail: string | null;
}

const ACTOR = "user";

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

  async start(
    rawAddress: string,
    requestedLocale: string | null,
    acceptLanguage: string | null,
  ): Promise<{ recoveryId: string }> {
    const address = normalizeEmail(rawAddress);
    if (!address) throw new AppError("ERR_VALIDATION", { field: "address" });
    const now = this.now();
    const recent = await store.countRecoveriesSince(this.platform.db, address, now - HOUR);
    if (recent >= this.platform.config.limits.recoveriesPerAccountPerHour)
      throw new AppError("ERR_RATE_LIMITED", { retryAfter: 3600 });
    const account = await this.accounts.findByAddress(address);
    const id = newRecoveryId();
    await inTransaction(this.platform, async (tx) => {
      await store.insertRecovery(tx, {
        id,
        address,
        account_id: account?.id ?? null,
        locale: pickLocale(requestedLocale, account?.locale, acceptLanguage),
        state: "choose_channel",
        started_at: now,
        verified_at: null,
        completed_at: null,
        case_id: null,
      });
      await auditSubject(
        this.platform,
        tx,
        { accountId: account?.id ?? null, address },
        {
          type: "recovery.started",
          actor: ACTOR,
          detail: { recoveryId: id },
        },
      );
    });
    return { recoveryId: id };
  }

  private async requireRecovery(id: string) {
    const recovery = await store.findRecovery(this.platform.db, id);
    if (!recovery) throw new AppError("ERR_RECOVERY_NOT_FOUND");
    return recovery;
  }

  /**
   * The person types in full a backup address or number. A code goes there only if it is a verified
   * alternate of the account; otherwise a decoy code row that can never match keeps the answer,
   * the attempt counting and the hourly cap identical.
   */
  async chooseChannel(id: string, kind: "email" | "phone", rawValue: string): Promise<void> {
    // Before anything else, so the answer is the same for every account and every recovery id.
    if (kind === "phone" && !this.platform.channels.sms) throw new AppError("ERR_CHANNEL_UNAVAILABLE");
    if (kind === "email" && !this.platform.channels.email) throw new AppError("ERR_EMAIL_UNAVAILABLE");
    const recovery = await this.requireRecovery(id);
    // Also after the code (say the 30 minutes for the password ran out): a new code must then be confirmed.
    if (recovery.state === "done") throw new AppError("ERR_RECOVERY_STEP");
    const looksValid = kind === "email" ? normalizeEmail(rawValue) !== null : looksLikePhone(rawValue);
    if (!looksValid)
      throw new AppError(kind === "email" ? "ERR_VALIDATION" : "ERR_PHONE_INVALID", { field: "value" });

    const now = this.now();
    const account = recovery.account_id ? await this.accounts.findById(recovery.account_id) : undefined;
    const value = kind === "email" ? normalizeEmail(rawValue)! : normalizePhone(rawValue, account?.country);
    const alternates = account ? await this.accounts.verifiedAlternates(account.id) : [];
    // Never the account's own address, never an unverified alternate.
    const match =
      value !== null && value !== recovery.address
        ? alternates.find((a) => a.kind === kind && a.value === value)
        : undefined;

    const code = sixDigitCode();
    const codeId = newId();
    const expiresAt = now + codeTtlMs[kind];
    // Masked from what was typed, not from what matched, so the page looks the same for any account.
    const masked = maskAlternate(kind, kind === "email" ? value! : rawValue.replace(/[^\d+]/g, ""));
    const t = translator(recovery.locale as Locale);
    await inTransaction(this.platform, async (tx) => {
      // One writer per address at a time: the cap holds and only one code is ever live.
      await lockKey(tx, this.platform.dialect, `codes:${recovery.address}`);
      const recent = await store.codesSince(tx, recovery.address, now - HOUR);
      if (recent.count >= this.platform.config.limits.codesPerAccountPerHour) {
        const retryAfter = Math.ceil(((recent.oldest ?? now) + HOUR - now) / 1000);
        throw new AppError(
          "ERR_TOO_MANY_CODES",
          { retryAfter },
          { retryAfterMinutes: Math.ceil(retryAfter / 60) },
        );
      }
      await store.voidLiveCodes(tx, recovery.address, now, LONGEST_CODE_TTL_MS);
      await store.insertCode(tx, {
        id: codeId,
        recovery_id: id,
        address: recovery.address,
        channel: kind,
        destination_masked: masked,
        code_hash: match ? this.codeHash(codeId, code) : null,
        attempts: 0,
        created_at: now,
        expires_at: expiresAt,
        used_at: null,
        voided_at: null,
      });
      await store.updateRecovery(tx, id, { state: "enter_code", verified_at: null });
      if (match) {
        const link = `${this.platform.config.publicUrl}/recover/${id}/code?code=${code}&lang=${recovery.locale}`;
        await enqueueMessage(
          tx,
          now,
          this.platform.secrets,
          kind === "email"
            ? {
                channel: "email",
                recipient: match.value,
                subject: t("mail.code.subject"),
                body: t("mail.code.body", { code, link, account: recovery.address }),
                codeId,
              }
            : { channel: "sms", recipient: match.value, body: t("sms.code.body", { code }), codeId },
        );
      }
      await auditSubject(
        this.platform,
        tx,
        { accountId: recovery.account_id, address: recovery.address },
        {
          type: match ? "recovery.code_sent" : "recovery.code_refused",
          actor: ACTOR,
          detail: {
            recoveryId: id,
            channel: kind,
            to: masked,
            ...(match ? { expiresAt } : { reason: "not_a_verified_alternate" }),
          },
        },
      );
    });
    if (match) this.platform.wakeOutbox();
  }

  async confirmCode(id: string, rawCode: string): Promise<void> {
    const recovery = await this.requireRecovery(id);
    if (recovery.state !== "enter_code") throw new AppError("ERR_RECOVERY_STEP");
    const code = await store.latestCodeOf(this.platform.db, id);
    if (!code) throw new AppError("ERR_RECOVERY_STEP");
    const now = this.now();
    const { triesPerCode } = this.platform.config.limits;
    if (code.attempts >= triesPerCode) throw new AppError("ERR_TOO_MANY_ATTEMPTS");
    if (now >= code.expires_at) throw new AppError("ERR_CODE_EXPIRED");

    const submitted = codeInput(rawCode);
    const right =
      code.voided_at === null &&
      this.platform.secrets.matches(`code:${code.id}:${submitted}`, code.code_hash);
    const outcome = await inTransaction(this.platform, async (tx) => {
      if (!(await store.takeCodeTry(tx, code.id, triesPerCode))) return "exhausted" as const;
      if (
        right &&
        (await store.markCodeUsed(tx, code.id, now)) &&
        (await store.advanceRecovery(tx, id, "enter_code", { state: "set_password", verified_at: now }))
      ) {
        if (recovery.account_id)
          await auditAccount(this.platform, tx, recovery.account_id, {
            type: "recovery.code_verified",
            actor: ACTOR,
            detail: { recoveryId: id, channel: code.channel },
          });
        return "verified" as const;
      }
      const attemptsLeft = Math.max(triesPerCode - (code.attempts + 1), 0);
      await auditSubject(
        this.platform,
        tx,
        { accountId: recovery.account_id, address: recovery.address },
        {
          type: "recovery.code_failed",
          actor: ACTOR,
          detail: { recoveryId: id, attemptsLeft },
        },
      );
      return attemptsLeft;
    });
    if (outcome === "exhausted") throw new AppError("ERR_TOO_MANY_ATTEMPTS");
    if (outcome !== "verified")
      throw new AppError("ERR_CODE_INVALID", { attemptsLeft: outcome }, { attemptsLeft: outcome });
  }

  async setPassword(
    id: string,
    password: string,
    deviceId: string | null = null,
  ): Promise<{ heldBy: string | null; caseRef: string | null }> {
    const recovery = await this.requireRecovery(id);
    if (recovery.state !== "set_password" || !recovery.account_id) throw new AppError("ERR_RECOVERY_STEP");
    const now = this.now();
    if (now - Number(recovery.verified_at) > PASSWORD_STEP_TTL_MS) throw new AppError("ERR_RECOVERY_EXPIRED");
    const account = await this.accounts.findById(recovery.account_id);
    if (!account) throw new AppError("ERR_RECOVERY_NOT_FOUND");
    const t = translator(recovery.locale as Locale);
    const passwordHash = await this.accounts.checkNewPassword(account, password, t("password.hint.default"));

    const result = await inTransaction(this.platform, async (tx) => {
      if (!(await store.advanceRecovery(tx, id, "set_password", { state: "done", completed_at: now })))
        throw new AppError("ERR_RECOVERY_STEP");
      const heldBy = await this.accounts.resetAfterRecovery(tx, account.id, passwordHash, ACTOR, deviceId);
      await store.voidLiveCodes(tx, recovery.address, now, LONGEST_CODE_TTL_MS);
      await store.endOtherRecoveries(tx, account.id, id, now);
      await auditAccount(this.platform, tx, account.id, {
        type: "recovery.completed",
        actor: ACTOR,
        detail: { recoveryId: id },
      });

      // Tell every verified alternate and the primary address: the real owner must hear of a takeover.
      const helpUrl = `${this.platform.config.publicUrl}/?lang=${recovery.locale}`;
      const at = formatInstant(now, recovery.locale as Locale);
      const mailBody = t("mail.recovered.body", { account: account.address, at, helpUrl });
      const recipients = [
        { kind: "email" as const, value: account.address },
        ...(await this.accounts.verifiedAlternates(account.id, tx)),
      ];
      for (const r of recipients) {
        await enqueueMessage(
          tx,
          now,
          this.platform.secrets,
          r.kind === "email"
            ? { channel: "email", recipient: r.value, subject: t("mail.recovered.subject"), body: mailBody }
            : {
                channel: "sms",
                recipient: r.value,
                body: t("sms.recovered.body", { account: account.address, helpUrl }),
              },
        );
      }
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
          locale: recovery.locale,
          source: "recovery_lock_held",
          firstAttemptAt: await this.firstAttempt(tx, recovery.address, Number(recovery.started_at)),
          actor: ACTOR,
          detail: { lock: heldBy },
        });
        caseRef = opened.ref;
        await store.updateRecovery(tx, id, { case_id: opened.id });
      }
      return { heldBy, caseRef };
    });
    this.platform.wakeOutbox();
    return result;
  }

  private async firstAttempt(
    tx: Parameters<typeof store.attemptsOf>[0],
    address: string,
    fallback: number,
  ): Promise<number> {
    const attempts = await store.attemptsOf(tx, address, this.now() - 90 * 24 * HOUR);
    return (
      firstAttemptOf(
        attempts.map((a) => ({
          startedAt: Number(a.started_at),
          completedAt: a.completed_at === null ? null : Number(a.completed_at),
        })),
      ) ?? fallback
    );
  }

  /** "I can't reach any of these": never a dead end. Opens (or joins) a case and says what happens next. */
  async reportNoAccess(id: string, rawContact: string): Promise<{ caseRef: string }> {
    const recovery = await this.requireRecovery(id);
    if (recovery.state === "done") throw new AppError("ERR_RECOVERY_STEP");
    const contact = normalizeEmail(rawContact);
    if (!contact) throw new AppError("ERR_VALIDATION", { field: "contactEmail" });
    if (contact === recovery.address) throw new AppError("ERR_CONTACT_IS_ACCOUNT");
    const t = translator(recovery.locale as Locale);

    const caseRef = await inTransaction(this.platform, async (tx) => {
      const current = (await store.findRecovery(tx, id))!;
      if (current.case_id) {
        const existing = await this.cases.findById(current.case_id, tx);
        if (existing) return existing.ref;
      }
      const opened = await this.cases.openOrJoin(tx, {
        accountId: recovery.account_id,
        accountAddress: recovery.address,
        contactEmail: contact,
        locale: recovery.locale,
        source: "recovery_no_access",
        firstAttemptAt: await this.firstAttempt(tx, recovery.address, Number(recovery.started_at)),
        actor: ACTOR,
        detail: { recoveryId: id },
      });
      await store.updateRecovery(tx, id, { case_id: opened.id });
      // One acknowledgement per case and contact address: repeated attempts join it quietly.
      if (opened.created || opened.contactChanged) {
        await enqueueMessage(tx, this.now(), this.platform.secrets, {
          channel: "email",
          recipient: contact,
          subject: t("mail.case.subject", { ref: opened.ref }),
          body: t("mail.case.body", { ref: opened.ref, account: recovery.address }),
        });
      }
      return opened.ref;
    });
    this.platform.wakeOutbox();
    return { caseRef };
  }

  /** What the pages show of a recovery: masked destination, state, case reference. */
  async view(id: string): Promise<RecoveryView> {
    const recovery = await this.requireRecovery(id);
    const code = await store.latestCodeOf(this.platform.db, id);
    const kase = recovery.case_id ? await this.cases.findById(recovery.case_id) : undefined;
    return {
      id,
      state: recovery.state,
      locale: recovery.locale as Locale,
      code: code
        ? { channel: code.channel, destination: code.destination_masked, expiresAt: Number(code.expires_at) }
        : null,
      caseRef: kase?.ref ?? null,
      caseSince: kase ? Number(kase.first_attempt_at) : null,
      contactEmail: kase?.contact_email ?? null,
    };
  }
}
