import type { LockRuleAction } from "../config.js";
import type { Executor, Tx } from "../db/database.js";
import type { AlternatesTable } from "../db/schema.js";
import { auditOfAccount } from "../platform/audit.js";
import { DAY } from "../platform/clock.js";
import {
  auditAccount,
  auditSubject,
  inAddressTransaction,
  inTransaction,
  type Platform,
} from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { type Locale, translator } from "../platform/i18n.js";
import { newId } from "../platform/ids.js";
import { randomToken } from "../platform/secrets.js";
import {
  type AccountRow,
  activeLock,
  knownDeviceAfterFailure,
  type LockReason,
  type LockView,
  lockLetsKnownDeviceIn,
  lockMayReplace,
  maskAlternate,
  normalizeEmail,
  normalizePhone,
  PASSWORD_HISTORY_SIZE,
  recoveryClears,
  type SecurityEventType,
  type ThrottleRow,
  throttleAfterFailure,
  throttleLock,
  throttleLocked,
} from "./model.js";
import { decoyPasswordHash, hashPassword, passwordStrength, verifyPassword } from "./passwords.js";
import * as store from "./store.js";

const SESSION_TTL_MS = 30 * DAY;

export interface NewAccount {
  address: string;
  password: string;
  displayName?: string;
  locale?: string;
  country?: string;
  alternates?: Array<{ kind: "email" | "phone"; value: string; verified?: boolean }>;
}

export interface AccountView {
  id: string;
  address: string;
  displayName: string | null;
  locale: string;
  country: string | null;
  status: "active" | "locked";
  lock: LockView | null;
  alternates: Array<{ kind: "email" | "phone"; masked: string; verified: boolean }>;
}

/** A verified alternate as other features see it: a place a code or a notice may go. */
export interface VerifiedAlternate {
  id: string;
  kind: "email" | "phone";
  value: string;
}

/**
 * What another feature (recovery) sees of an account: a projection, never its row (so never its
 * password hash). Unlike AccountView it holds the alternates in clear: it is not for answers.
 */
export interface AccountFacts {
  id: string;
  address: string;
  displayName: string | null;
  locale: string;
  country: string | null;
  /** The lock in force: its own (compromise, abuse, admin), else its address's throttle. */
  lock: LockView | null;
  verifiedAlternates: VerifiedAlternate[];
}

export type AccountReach = Pick<AccountFacts, "locale" | "country" | "verifiedAlternates">;

declare const accepted: unique symbol;
/**
 * A new password that passed the rules for one account, already hashed (argon2 runs before the
 * transaction, never inside it): only checkNewPassword makes one, only setNewPassword takes one.
 */
export interface AcceptedPassword {
  readonly accountId: string;
  readonly hash: string;
  readonly [accepted]: true;
}

/** The outcome of the rules for a new password: accepted, or the coded error to answer with. */
export type PasswordCheck = { ok: true; accepted: AcceptedPassword } | { ok: false; error: AppError };

export type SigninResult =
  | {
      outcome: "signed_in";
      session: string;
      /** The device id Sesame issued to this client (the one it sent, when valid): it sends it back. */
      deviceId: string;
      accountId: string;
      displayName: string | null;
      address: string;
    }
  /** A compromise, abuse or admin lock: told only after the right password. */
  | { outcome: "locked"; lock: LockView; address: string }
  /**
   * The brute_force throttle of the address: the same answer whatever the password and whether or
   * not an account has the address (the password is not checked).
   */
  | { outcome: "throttled"; until: number; retryAfter: number; address: string };

/** Looked up when there is no account, so that an unknown address runs the same queries. */
const NO_ACCOUNT_ID = "00000000-0000-0000-0000-000000000000";

const DEVICE_ID = /^d1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export class AccountsService {
  constructor(private readonly platform: Platform) {}

  private now() {
    return this.platform.clock.now();
  }

  /** A new device id: 128 random bits and Sesame's signature, so a client cannot choose one. */
  private issueDeviceId(): string {
    const random = randomToken(16);
    return `d1.${random}.${this.platform.secrets.hmac(`device-id:${random}`)}`;
  }

  /**
   * The stored form of a device id the client sent back, or null when Sesame did not issue it
   * (absent, malformed, forged): such a client is a device no account knows.
   */
  private issuedDeviceHash(deviceId: string | undefined | null): string | null {
    const parts = deviceId ? DEVICE_ID.exec(deviceId) : null;
    if (!parts || !this.platform.secrets.matches(`device-id:${parts[1]}`, parts[2]!)) return null;
    return this.platform.secrets.hmac(`device:${deviceId}`);
  }

  /** The throttle's key of an address: its HMAC, so the table names no address in clear. */
  private throttleKey(address: string): string {
    return this.platform.secrets.hmac(`signin-throttle:${address}`);
  }

  /** The lock an account is under: its own (compromise, abuse, admin) before its address's throttle. */
  private lockOf(account: AccountRow, throttle: ThrottleRow | undefined, now: number): LockView | null {
    return activeLock(account, now) ?? throttleLock(throttle, now);
  }

  async createAccount(input: NewAccount, actor: string): Promise<AccountView> {
    const address = normalizeEmail(input.address);
    if (!address) throw new AppError("ERR_VALIDATION", { field: "address" });
    const alternates: AlternatesTable[] = [];
    const now = this.now();
    const id = newId();
    for (const [index, alt] of (input.alternates ?? []).entries()) {
      const value =
        alt.kind === "email" ? normalizeEmail(alt.value) : normalizePhone(alt.value, input.country);
      if (!value) throw new AppError("ERR_VALIDATION", { field: `alternates/${index}/value` });
      // The account's own address is never a way back into it.
      if (alt.kind === "email" && value === address)
        throw new AppError("ERR_VALIDATION", { field: `alternates/${index}/value` });
      if (alternates.some((a) => a.kind === alt.kind && a.value === value)) continue;
      alternates.push({
        id: newId(),
        account_id: id,
        kind: alt.kind,
        value,
        verified: alt.verified ? 1 : 0,
        created_at: now,
      });
    }
    if (await store.findAccountByAddress(this.platform.db, address)) throw new AppError("ERR_ACCOUNT_EXISTS");
    const passwordHash = await hashPassword(input.password);
    try {
      await inTransaction(this.platform, async (tx) => {
        await store.insertAccount(tx, {
          id,
          address,
          password_hash: passwordHash,
          display_name: input.displayName ?? null,
          locale: input.locale ?? "en",
          country: input.country?.toUpperCase() ?? null,
          lock_reason: null,
          lock_since: null,
          lock_until: null,
          lock_note: null,
          password_changed_at: now,
          created_at: now,
          updated_at: now,
        });
        await store.insertAlternates(tx, alternates);
        await auditAccount(this.platform, tx, id, {
          type: "account.created",
          actor,
          detail: {
            alternates: alternates.map((a) => ({
              kind: a.kind,
              masked: maskAlternate(a.kind, a.value),
              verified: a.verified === 1,
            })),
          },
        });
      });
    } catch (error) {
      // Two creators racing for one address: the unique index decides, the loser gets the coded error.
      if (await store.findAccountByAddress(this.platform.db, address))
        throw new AppError("ERR_ACCOUNT_EXISTS");
      throw error;
    }
    return this.viewOf(id);
  }

  async viewOf(id: string): Promise<AccountView> {
    const account = await store.findAccountById(this.platform.db, id);
    if (!account) throw new AppError("ERR_ACCOUNT_NOT_FOUND");
    return this.present(account);
  }

  async viewByAddress(rawAddress: string): Promise<AccountView> {
    const account = await this.requireByAddress(rawAddress);
    return this.present(account);
  }

  private async present(account: AccountRow): Promise<AccountView> {
    const throttle = await store.findThrottle(this.platform.db, this.throttleKey(account.address));
    const lock = this.lockOf(account, throttle, this.now());
    const alternates = await store.alternatesOf(this.platform.db, account.id);
    return {
      id: account.id,
      address: account.address,
      displayName: account.display_name,
      locale: account.locale,
      country: account.country,
      status: lock ? "locked" : "active",
      lock,
      alternates: alternates.map((a) => ({
        kind: a.kind,
        masked: maskAlternate(a.kind, a.value),
        verified: a.verified === 1,
      })),
    };
  }

  private async requireByAddress(rawAddress: string): Promise<AccountRow> {
    const address = normalizeEmail(rawAddress);
    const account = address ? await store.findAccountByAddress(this.platform.db, address) : undefined;
    if (!account) throw new AppError("ERR_ACCOUNT_NOT_FOUND");
    return account;
  }

  /**
   * The id of the account of a normalised address, for features that need no more of it: one
   * query, the same whether or not an account has the address.
   */
  async idOf(address: string, tx?: Tx): Promise<string | null> {
    return (await store.findAccountIdByAddress(tx ?? this.platform.db, address)) ?? null;
  }

  /** The account of a normalised address, as other features see it (the same queries for none). */
  async findByAddress(address: string, tx?: Tx): Promise<AccountFacts | undefined> {
    const db = tx ?? this.platform.db;
    return this.factsOf(db, await store.findAccountByAddress(db, address), address);
  }

  /** The account whose verified phone number (E.164) this is, as other features see it. */
  async findByVerifiedPhone(phone: string, tx?: Tx): Promise<AccountFacts | undefined> {
    const db = tx ?? this.platform.db;
    const account = await store.findAccountByVerifiedPhone(db, phone);
    return account ? this.factsOf(db, account, account.address) : undefined;
  }

  /** The account of an id, as other features see it; null (no account) runs the same queries. */
  async findById(id: string | null, tx?: Tx): Promise<AccountFacts | undefined> {
    const db = tx ?? this.platform.db;
    const account = await store.findAccountById(db, id ?? NO_ACCOUNT_ID);
    return this.factsOf(db, account, account?.address ?? "");
  }

  /**
   * What a code request needs of an account: its language, its country and where codes may go, read
   * alike for an unknown id (undefined then). Not its lock, which a recovery is the way out of, so
   * not its address's throttle row and that row's keyed hash: 2% of a code request.
   */
  async reachOf(id: string | null, tx: Tx): Promise<AccountReach | undefined> {
    const rows = await store.findAccountReach(tx, id ?? NO_ACCOUNT_ID);
    const account = rows[0]!;
    if (account.locale === null) return undefined;
    const verifiedAlternates = rows.flatMap(({ id, kind, value }) =>
      id !== null && kind !== null && value !== null ? [{ id, kind, value }] : [],
    );
    return { locale: account.locale, country: account.country, verifiedAlternates };
  }

  private async factsOf(
    db: Executor,
    account: AccountRow | undefined,
    address: string,
  ): Promise<AccountFacts | undefined> {
    // Read for a missing account too (under no account id), so both cost the same.
    const verifiedAlternates = await this.verifiedAlternates(account?.id ?? NO_ACCOUNT_ID, db);
    const throttle = await store.findThrottle(db, this.throttleKey(address));
    if (!account) return undefined;
    return {
      id: account.id,
      address: account.address,
      displayName: account.display_name,
      locale: account.locale,
      country: account.country,
      lock: this.lockOf(account, throttle, this.now()),
      verifiedAlternates,
    };
  }

  /** The verified alternates of an account (none for an unknown id): where codes and notices may go. */
  async verifiedAlternates(accountId: string, db: Executor = this.platform.db): Promise<VerifiedAlternate[]> {
    return store.verifiedAlternatesOf(db, accountId);
  }

  async lockAccount(
    rawAddress: string,
    reason: LockReason,
    note: string | null,
    actor: string,
  ): Promise<AccountView> {
    const found = await this.requireByAddress(rawAddress);
    await inTransaction(this.platform, async (tx) => {
      const throttle = await store.lockThrottleRow(
        tx,
        this.platform.dialect,
        this.throttleKey(found.address),
        this.now(),
      );
      const account = await store.lockAccountRow(tx, this.platform.dialect, found.id);
      await this.applyLock(tx, account, throttle, reason, note, actor);
    });
    return this.viewOf(found.id);
  }

  /**
   * Locks an account, never lowering its lock: a weaker reason than the lock in force is recorded
   * as `account.lock_kept` and changes nothing. brute_force goes to the address's throttle.
   */
  private async applyLock(
    tx: Tx,
    account: AccountRow,
    throttle: ThrottleRow,
    reason: LockReason,
    note: string | null,
    actor: string,
  ) {
    const now = this.now();
    const current = this.lockOf(account, throttle, now);
    if (current && !lockMayReplace(current.reason, reason)) {
      await auditAccount(this.platform, tx, account.id, {
        type: "account.lock_kept",
        actor,
        detail: { asked: reason, kept: current.reason },
      });
      return;
    }
    if (reason === "brute_force") {
      const { locked: _, ...changes } = throttleLocked(throttle, now, this.platform.config.rules);
      await store.updateThrottle(tx, throttle.key_hash, changes);
      await auditAccount(this.platform, tx, account.id, {
        type: "account.locked",
        actor,
        detail: { reason, until: changes.locked_until, ...(note ? { note } : {}) },
      });
      return;
    }
    const own = activeLock(account, now);
    await store.updateAccount(tx, account.id, {
      lock_reason: reason,
      lock_since: own?.reason === reason ? own.since : now,
      lock_until: null,
      lock_note: note,
      updated_at: now,
    });
    await auditAccount(this.platform, tx, account.id, {
      type: "account.locked",
      actor,
      detail: { reason, ...(note ? { note } : {}) },
    });
    // A suspected hijacker (or a blocked account) keeps no session and no device it may have earned.
    await this.forgetSessionsAndDevices(tx, account.id, actor);
  }

  private async forgetSessionsAndDevices(tx: Tx, accountId: string, actor: string, keepDevice?: string) {
    const now = this.now();
    const revoked = await store.revokeSessionsOf(tx, accountId, now);
    if (revoked > 0)
      await auditAccount(this.platform, tx, accountId, {
        type: "sessions.revoked",
        actor,
        detail: { count: revoked },
      });
    const forgotten = await store.forgetDevicesOf(tx, accountId);
    if (keepDevice) await store.rememberDevice(tx, accountId, keepDevice, now);
    if (forgotten > 0)
      await auditAccount(this.platform, tx, accountId, {
        type: "devices.forgotten",
        actor,
        detail: { count: forgotten, keptCompletingDevice: keepDevice !== undefined },
      });
  }

  /** A security event from an integration, run through the configured rules. Unknown addresses are ignored. */
  async recordSecurityEvent(
    event: { type: SecurityEventType; address: string; ip?: string; deviceId?: string; country?: string },
    actor: string,
  ): Promise<void> {
    const address = normalizeEmail(event.address);
    const found = address ? await store.findAccountByAddress(this.platform.db, address) : undefined;
    if (!found) return;
    const deviceHash = this.issuedDeviceHash(event.deviceId);
    await inTransaction(this.platform, async (tx) => {
      const throttle = await store.lockThrottleRow(
        tx,
        this.platform.dialect,
        this.throttleKey(found.address),
        this.now(),
      );
      const account = await store.lockAccountRow(tx, this.platform.dialect, found.id);
      const detail = {
        ...(event.ip ? { ip: event.ip } : {}),
        ...(event.country ? { country: event.country } : {}),
      };
      await auditAccount(this.platform, tx, account.id, {
        type: `event.${event.type}`,
        actor,
        detail,
      });
      if (event.type === "signin_failed") {
        await this.countFailure(tx, throttle, account, account.address, deviceHash, actor);
        return;
      }
      const action: LockRuleAction =
        event.type === "malware_detected"
          ? this.platform.config.rules.onMalware
          : this.platform.config.rules.onSpamBurst;
      if (action !== "none") await this.applyLock(tx, account, throttle, action, `rule:${event.type}`, actor);
    });
  }

  /**
   * One failed sign-in. From a device the account knows: counted on the device, which is forgotten
   * at 3 times the threshold. Otherwise counted on the address's throttle, account or not (the
   * same statements either way).
   */
  private async countFailure(
    tx: Tx,
    throttle: ThrottleRow,
    account: AccountRow | undefined,
    address: string,
    deviceHash: string | null,
    actor: string,
  ): Promise<void> {
    const now = this.now();
    const rules = this.platform.config.rules;
    // Looked up for an unknown address too (under no account id), so both do the same work.
    const device = deviceHash ? await store.findKnownDevice(tx, account?.id ?? "", deviceHash) : undefined;
    if (account && device) {
      const { forget, ...counted } = knownDeviceAfterFailure(device, now, rules);
      if (!forget) return void (await store.updateKnownDevice(tx, account.id, device.device_hash, counted));
      await store.forgetDevice(tx, account.id, device.device_hash);
      await auditAccount(this.platform, tx, account.id, {
        type: "device.forgotten",
        actor,
        detail: { rule: "failed_signins", failures: counted.failed_signins },
      });
      return;
    }
    if (throttleLock(throttle, now)) return;
    const { locked, ...changes } = throttleAfterFailure(throttle, now, rules);
    await store.updateThrottle(tx, throttle.key_hash, changes);
    if (locked)
      await auditSubject(
        this.platform,
        tx,
        { accountId: account?.id ?? null, address },
        {
          type: "account.locked",
          actor,
          detail: { reason: "brute_force", until: changes.locked_until, rule: "failed_signins" },
        },
      );
  }

  /**
   * Sign-in. A wrong password gives the same answer whatever the account's state (or existence);
   * only a correct password learns of a compromise, abuse or admin lock. During the address's
   * brute_force throttle a device the account does not know gets one answer, and the password is
   * not checked at all.
   */
  async signIn(
    rawAddress: string,
    password: string,
    deviceId: string | undefined,
    ip: string,
  ): Promise<SigninResult> {
    const address = normalizeEmail(rawAddress) ?? rawAddress.trim().toLowerCase();
    const keyHash = this.throttleKey(address);
    const deviceHash = this.issuedDeviceHash(deviceId);
    const db = this.platform.db;
    // The same reads for every address, account or not.
    const [found, throttle] = await Promise.all([
      store.findAccountByAddress(db, address),
      store.findThrottle(db, keyHash),
    ]);
    const knownBefore = deviceHash
      ? (await store.findKnownDevice(db, found?.id ?? "", deviceHash)) !== undefined
      : false;
    const throttled = throttleLock(throttle, this.now());
    // The answer is already decided: spending argon2 time on it would only make a flood cost more.
    if (throttled && !knownBefore) return this.throttledAnswer(throttled, address);

    const passwordOk = await verifyPassword(found?.password_hash ?? (await decoyPasswordHash()), password);
    // On PostgreSQL, queued in memory behind other sign-ins for this address on this node: a flood
    // about one address waits there, not holding connections while it waits on the throttle row's lock.
    const result = await inAddressTransaction(
      this.platform,
      address,
      async (tx): Promise<SigninResult | null> => {
        const now = this.now();
        const counter = await store.lockThrottleRow(tx, this.platform.dialect, keyHash, now);
        const account = await store.lockAccountRowByAddress(tx, this.platform.dialect, address);
        const deviceKnown =
          deviceHash !== null &&
          (await store.findKnownDevice(tx, account?.id ?? "", deviceHash)) !== undefined;
        const throttledNow = throttleLock(counter, now);
        if (throttledNow && !deviceKnown) return this.throttledAnswer(throttledNow, address);
        // The hash that verified must still be the account's: a password changed meanwhile wins.
        if (!account || !passwordOk || account.password_hash !== found?.password_hash) {
          await auditSubject(
            this.platform,
            tx,
            { accountId: account?.id ?? null, address },
            { type: "signin.failed", actor: "user", detail: { ip, knownDevice: deviceKnown } },
          );
          await this.countFailure(tx, counter, account, address, deviceHash, "rule:failed_signins");
          return null;
        }
        const lock = this.lockOf(account, counter, now);
        if (!lockLetsKnownDeviceIn(lock, deviceKnown)) {
          await auditAccount(this.platform, tx, account.id, {
            type: "signin.blocked",
            actor: "user",
            detail: { ip, reason: lock!.reason },
          });
          return { outcome: "locked", lock: lock!, address: account.address };
        }
        const session = randomToken(32);
        const issued = deviceHash ? deviceId! : this.issueDeviceId();
        const issuedHash = deviceHash ?? this.platform.secrets.hmac(`device:${issued}`);
        await store.insertSession(tx, {
          id: newId(),
          account_id: account.id,
          token_hash: this.platform.secrets.hmac(`session:${session}`),
          device_hash: issuedHash,
          created_at: now,
          expires_at: now + SESSION_TTL_MS,
        });
        await store.rememberDevice(tx, account.id, issuedHash, now);
        // The owner is in: failures so far are forgiven, unless a throttle is running (a known device
        // passed it, while someone else may still be guessing).
        if (!throttledNow) await store.deleteThrottle(tx, keyHash);
        await auditAccount(this.platform, tx, account.id, {
          type: "signin.succeeded",
          actor: "user",
          detail: { ip, knownDevice: deviceKnown },
        });
        return {
          outcome: "signed_in",
          session,
          deviceId: issued,
          accountId: account.id,
          displayName: account.display_name,
          address: account.address,
        };
      },
    );
    if (!result) throw new AppError("ERR_INVALID_CREDENTIALS");
    return result;
  }

  private throttledAnswer(lock: LockView, address: string): SigninResult {
    const until = Number(lock.until);
    return { outcome: "throttled", until, retryAfter: Math.ceil((until - this.now()) / 1000), address };
  }

  async sessionOf(token: string) {
    const session = await store.findLiveSession(
      this.platform.db,
      this.platform.secrets.hmac(`session:${token}`),
      this.now(),
    );
    if (!session) throw new AppError("ERR_SESSION_INVALID");
    return session;
  }

  /** Sign-out: ends the session of this token; ERR_SESSION_INVALID when it was not live. */
  async signOut(token: string): Promise<void> {
    await inTransaction(this.platform, async (tx) => {
      const ended = await store.revokeSession(tx, this.platform.secrets.hmac(`session:${token}`), this.now());
      if (!ended) throw new AppError("ERR_SESSION_INVALID");
      await auditAccount(this.platform, tx, ended.account_id, { type: "session.ended", actor: "user" });
    });
  }

  async auditOf(rawAddress: string) {
    const account = await this.requireByAddress(rawAddress);
    return auditOfAccount(this.platform.db, account.id);
  }

  /**
   * The rules a new password must pass (strength, not made of the person's own words, neither the
   * current password nor one of the previous five), for an account (its facts or its address).
   * Refused: ERR_PASSWORD_WEAK (with a `hint` in `locale`) or ERR_PASSWORD_REUSED. Accepted: hashed,
   * ready for setNewPassword. An unknown address throws ERR_ACCOUNT_NOT_FOUND.
   */
  async checkNewPassword(
    account: Pick<AccountFacts, "id"> | string,
    password: string,
    locale: Locale,
  ): Promise<PasswordCheck> {
    const row =
      typeof account === "string"
        ? await this.requireByAddress(account)
        : await store.findAccountById(this.platform.db, account.id);
    if (!row) throw new AppError("ERR_ACCOUNT_NOT_FOUND");
    const personal = [row.address, ...row.address.split(/[@.\-_+]/), row.display_name ?? ""].filter(
      (w) => w.length > 2,
    );
    if (!(await passwordStrength(password, personal)).strong) {
      const hint = translator(locale)("password.hint.default");
      return { ok: false, error: new AppError("ERR_PASSWORD_WEAK", {}, { hint }) };
    }
    const recent = [row.password_hash, ...(await store.previousPasswordHashes(this.platform.db, row.id))];
    const reused = await Promise.all(recent.map((stored) => verifyPassword(stored, password)));
    if (reused.includes(true)) return { ok: false, error: new AppError("ERR_PASSWORD_REUSED") };
    const accepted = { accountId: row.id, hash: await hashPassword(password) } as AcceptedPassword;
    return { ok: true, accepted };
  }

  /**
   * A new password set by whoever proved a factor (the exit of a recovery), inside the caller's
   * transaction: the password checkNewPassword accepted (the old one joins the history of 5),
   * compromise and brute_force locks cleared, every session revoked, every known device forgotten
   * but the one that completed the recovery, when Sesame issued its id (`completingDeviceId`, as the
   * client sent it), each audited. Returns the lock that stays (abuse, admin), if any.
   */
  async setNewPassword(
    tx: Tx,
    accountId: string,
    password: AcceptedPassword,
    actor: string,
    completingDeviceId: string | null = null,
  ): Promise<LockReason | null> {
    // Its history was checked for this account only.
    if (password.accountId !== accountId) throw new Error("password accepted for another account");
    const passwordHash = password.hash;
    const now = this.now();
    const { address } = (await store.findAccountById(tx, accountId))!;
    const keyHash = this.throttleKey(address);
    const throttle = await store.lockThrottleRow(tx, this.platform.dialect, keyHash, now);
    const account = await store.lockAccountRow(tx, this.platform.dialect, accountId);
    const own = activeLock(account, now);
    const lock = this.lockOf(account, throttle, now);
    const clears = own === null || recoveryClears(own.reason);
    await store.recordReplacedPassword(tx, accountId, account.password_hash, now, PASSWORD_HISTORY_SIZE);
    await store.updateAccount(tx, accountId, {
      password_hash: passwordHash,
      password_changed_at: now,
      ...(clears ? { lock_reason: null, lock_since: null, lock_until: null, lock_note: null } : {}),
      updated_at: now,
    });
    // Guesses at the old password are moot now; the owner starts afresh.
    await store.deleteThrottle(tx, keyHash);
    await auditAccount(this.platform, tx, accountId, { type: "account.password_reset", actor });
    const revoked = await store.revokeSessionsOf(tx, accountId, now);
    await auditAccount(this.platform, tx, accountId, {
      type: "sessions.revoked",
      actor,
      detail: { count: revoked },
    });
    const completing = this.issuedDeviceHash(completingDeviceId);
    const forgotten = await store.forgetDevicesOf(tx, accountId);
    if (completing) await store.rememberDevice(tx, accountId, completing, now);
    await auditAccount(this.platform, tx, accountId, {
      type: "devices.forgotten",
      actor,
      detail: { count: forgotten, keptCompletingDevice: completing !== null },
    });
    const lifted = clears ? lock : throttleLock(throttle, now);
    if (lifted)
      await auditAccount(this.platform, tx, accountId, {
        type: "account.unlocked",
        actor,
        detail: { reason: lifted.reason },
      });
    return clears ? null : own!.reason;
  }
}
