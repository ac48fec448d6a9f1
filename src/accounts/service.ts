import type { LockRuleAction } from "../config.js";
import type { Tx } from "../db/database.js";
import type { AlternatesTable } from "../db/schema.js";
import { auditOfAccount } from "../platform/audit.js";
import { DAY } from "../platform/clock.js";
import { auditAccount, inTransaction, type Platform } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { randomToken } from "../platform/secrets.js";
import {
  type AccountRow,
  activeLock,
  afterFailedSignin,
  type LockReason,
  type LockView,
  lockDurationMs,
  lockLetsKnownDeviceIn,
  maskAlternate,
  normalizeEmail,
  normalizePhone,
  recoveryClears,
  type SecurityEventType,
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

export type SigninResult =
  | { outcome: "signed_in"; session: string; accountId: string; displayName: string | null; address: string }
  | { outcome: "locked"; lock: LockView; locale: string; address: string };

export class AccountsService {
  constructor(private readonly platform: Platform) {}

  private now() {
    return this.platform.clock.now();
  }

  private deviceHash(deviceId: string | undefined | null): string | null {
    return deviceId ? this.platform.secrets.hmac(`device:${deviceId}`) : null;
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
          failed_signins: 0,
          failed_window_start: null,
          brute_force_level: 0,
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
    const lock = activeLock(account, this.now());
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

  /** Account row by normalised address, for other features (recovery) that must not know the table. */
  findByAddress(address: string, tx?: Tx) {
    return store.findAccountByAddress(tx ?? this.platform.db, address);
  }

  findById(id: string, tx?: Tx) {
    return store.findAccountById(tx ?? this.platform.db, id);
  }

  verifiedAlternates(accountId: string, tx?: Tx) {
    return store
      .alternatesOf(tx ?? this.platform.db, accountId)
      .then((all) => all.filter((a) => a.verified === 1));
  }

  async lockAccount(
    rawAddress: string,
    reason: LockReason,
    note: string | null,
    actor: string,
  ): Promise<AccountView> {
    const found = await this.requireByAddress(rawAddress);
    await inTransaction(this.platform, async (tx) => {
      const account = await store.lockAccountRow(tx, this.platform.dialect, found.id);
      await this.applyLock(tx, account, reason, note, actor);
    });
    return this.viewOf(found.id);
  }

  private async applyLock(
    tx: Tx,
    account: AccountRow,
    reason: LockReason,
    note: string | null,
    actor: string,
  ) {
    const now = this.now();
    const current = activeLock(account, now);
    const until =
      reason === "brute_force"
        ? now + lockDurationMs(account.brute_force_level, this.platform.config.rules)
        : null;
    await store.updateAccount(tx, account.id, {
      lock_reason: reason,
      lock_since: current?.reason === reason ? current.since : now,
      lock_until: until,
      lock_note: note,
      brute_force_level: reason === "brute_force" ? account.brute_force_level + 1 : account.brute_force_level,
      updated_at: now,
    });
    await auditAccount(this.platform, tx, account.id, {
      type: "account.locked",
      actor,
      detail: { reason, ...(until ? { until } : {}), ...(note ? { note } : {}) },
    });
    // A suspected hijacker (or a blocked account) keeps no session; a brute_force lock leaves the
    // owner's own devices signed in.
    if (reason !== "brute_force") {
      const revoked = await store.revokeSessionsOf(tx, account.id, now);
      if (revoked > 0)
        await auditAccount(this.platform, tx, account.id, {
          type: "sessions.revoked",
          actor,
          detail: { count: revoked },
        });
    }
  }

  /** A security event from an integration, run through the configured rules. Unknown addresses are ignored. */
  async recordSecurityEvent(
    event: { type: SecurityEventType; address: string; ip?: string; deviceId?: string; country?: string },
    actor: string,
  ): Promise<void> {
    const address = normalizeEmail(event.address);
    const found = address ? await store.findAccountByAddress(this.platform.db, address) : undefined;
    if (!found) return;
    const deviceHash = this.deviceHash(event.deviceId);
    await inTransaction(this.platform, async (tx) => {
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
        const known = deviceHash ? await store.isKnownDevice(tx, account.id, deviceHash) : false;
        if (!known) await this.countFailure(tx, account, actor);
        return;
      }
      const action: LockRuleAction =
        event.type === "malware_detected"
          ? this.platform.config.rules.onMalware
          : this.platform.config.rules.onSpamBurst;
      const current = activeLock(account, this.now());
      if (action !== "none" && current?.reason !== "compromise") {
        await this.applyLock(tx, account, action, `rule:${event.type}`, actor);
      }
    });
  }

  private async countFailure(tx: Tx, account: AccountRow, actor: string) {
    const { locked, ...changes } = afterFailedSignin(account, this.now(), this.platform.config.rules);
    await store.updateAccount(tx, account.id, { ...changes, updated_at: this.now() });
    if (locked) {
      await auditAccount(this.platform, tx, account.id, {
        type: "account.locked",
        actor,
        detail: { reason: "brute_force", until: changes.lock_until, rule: "failed_signins" },
      });
    }
  }

  /**
   * Sign-in. A wrong password gives the same answer whatever the account's state (or existence);
   * only a correct password learns that the account is locked.
   */
  async signIn(
    rawAddress: string,
    password: string,
    deviceId: string | undefined,
    ip: string,
  ): Promise<SigninResult> {
    const address = normalizeEmail(rawAddress);
    const found = address ? await store.findAccountByAddress(this.platform.db, address) : undefined;
    const passwordOk = await verifyPassword(found?.password_hash ?? (await decoyPasswordHash()), password);
    if (!found) throw new AppError("ERR_INVALID_CREDENTIALS");
    const deviceHash = this.deviceHash(deviceId);

    const result = await inTransaction(this.platform, async (tx): Promise<SigninResult | null> => {
      const account = await store.lockAccountRow(tx, this.platform.dialect, found.id);
      const deviceKnown = deviceHash ? await store.isKnownDevice(tx, account.id, deviceHash) : false;
      if (!passwordOk || account.password_hash !== found.password_hash) {
        await auditAccount(this.platform, tx, account.id, {
          type: "signin.failed",
          actor: "user",
          detail: { ip, knownDevice: deviceKnown },
        });
        if (!deviceKnown) await this.countFailure(tx, account, "rule:failed_signins");
        return null;
      }
      const now = this.now();
      const lock = activeLock(account, now);
      if (!lockLetsKnownDeviceIn(lock, deviceKnown)) {
        await auditAccount(this.platform, tx, account.id, {
          type: "signin.blocked",
          actor: "user",
          detail: { ip, reason: lock!.reason },
        });
        return { outcome: "locked", lock: lock!, locale: account.locale, address: account.address };
      }
      const session = randomToken(32);
      await store.insertSession(tx, {
        id: newId(),
        account_id: account.id,
        token_hash: this.platform.secrets.hmac(`session:${session}`),
        device_hash: deviceHash,
        created_at: now,
        expires_at: now + SESSION_TTL_MS,
      });
      if (deviceHash) await store.rememberDevice(tx, account.id, deviceHash, now);
      if (!lock) {
        await store.updateAccount(tx, account.id, {
          failed_signins: 0,
          failed_window_start: null,
          brute_force_level: 0,
          updated_at: now,
        });
      }
      await auditAccount(this.platform, tx, account.id, {
        type: "signin.succeeded",
        actor: "user",
        detail: { ip, knownDevice: deviceKnown },
      });
      return {
        outcome: "signed_in",
        session,
        accountId: account.id,
        displayName: account.display_name,
        address: account.address,
      };
    });
    if (!result) throw new AppError("ERR_INVALID_CREDENTIALS");
    return result;
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

  async auditOf(rawAddress: string) {
    const account = await this.requireByAddress(rawAddress);
    return auditOfAccount(this.platform.db, account.id);
  }

  /**
   * The rules a new password must pass (strength, not made of the person's own words, not reused).
   * Throws ERR_PASSWORD_WEAK (with `hint`, in `locale`) or ERR_PASSWORD_REUSED; returns its hash.
   */
  async checkNewPassword(account: AccountRow, password: string, hint: string): Promise<string> {
    const personal = [
      account.address,
      ...account.address.split(/[@.\-_+]/),
      account.display_name ?? "",
    ].filter((w) => w.length > 2);
    if (!passwordStrength(password, personal).strong) throw new AppError("ERR_PASSWORD_WEAK", {}, { hint });
    if (await verifyPassword(account.password_hash, password)) throw new AppError("ERR_PASSWORD_REUSED");
    return hashPassword(password);
  }

  /**
   * The exit of a recovery, inside the recovery's transaction: new password, compromise and
   * brute_force locks cleared, every session revoked, failure counters reset.
   * `completingDeviceId` is the device id (as the client sent it) of the browser or app that
   * completed the recovery. Returns the lock that stays (abuse, admin), if any.
   */
  async resetAfterRecovery(
    tx: Tx,
    accountId: string,
    passwordHash: string,
    actor: string,
    _completingDeviceId: string | null,
  ): Promise<LockReason | null> {
    const account = await store.lockAccountRow(tx, this.platform.dialect, accountId);
    const now = this.now();
    const lock = activeLock(account, now);
    const clears = lock === null || recoveryClears(lock.reason);
    await store.updateAccount(tx, accountId, {
      password_hash: passwordHash,
      password_changed_at: now,
      failed_signins: 0,
      failed_window_start: null,
      brute_force_level: 0,
      ...(clears ? { lock_reason: null, lock_since: null, lock_until: null, lock_note: null } : {}),
      updated_at: now,
    });
    const revoked = await store.revokeSessionsOf(tx, accountId, now);
    await auditAccount(this.platform, tx, accountId, { type: "account.password_reset", actor });
    await auditAccount(this.platform, tx, accountId, {
      type: "sessions.revoked",
      actor,
      accountId,
      detail: { count: revoked },
    });
    if (lock && clears)
      await auditAccount(this.platform, tx, accountId, {
        type: "account.unlocked",
        actor,
        accountId,
        detail: { reason: lock.reason },
      });
    return clears ? null : lock!.reason;
  }
}
