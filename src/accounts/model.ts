import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";
import type { RiskRules } from "../config.js";
import type { AccountsTable, LockReason } from "../db/schema.js";

export type { LockReason };
export const lockReasons = ["compromise", "brute_force", "abuse", "admin"] as const;
export const securityEventTypes = ["signin_failed", "malware_detected", "spam_burst"] as const;
export type SecurityEventType = (typeof securityEventTypes)[number];

export type AccountRow = AccountsTable;

export interface LockView {
  reason: LockReason;
  since: number;
  until: number | null;
}

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven by a code, not a regex.
const EMAIL = /^[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[^\s@<>()"',;:]+$/;
// Characters that show nothing (zero-width, bidi controls, other format and control characters):
// they would let two addresses that look the same be two accounts.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

/**
 * The one form of an address: Unicode NFC, lower case, no trailing dot on the domain. Null when it
 * is not an address or holds an invisible character.
 */
export const normalizeEmail = (value: string): string | null => {
  // trim() would silently drop a BOM (U+FEFF), which is refused like any invisible character.
  if (value.includes("\uFEFF")) return null;
  const trimmed = value.normalize("NFC").trim().toLowerCase().normalize("NFC");
  if (INVISIBLE.test(trimmed)) return null;
  const address = trimmed.endsWith(".") ? trimmed.slice(0, -1) : trimmed;
  const domain = address.slice(address.lastIndexOf("@") + 1);
  if (domain.split(".").some((label) => label === "")) return null;
  return address.length <= 254 && EMAIL.test(address) ? address : null;
};

/** E.164 form of a phone number, read in the account's country when it has no +prefix. */
export const normalizePhone = (value: string, country?: string | null): string | null => {
  const parsed = parsePhoneNumberFromString(
    value.trim(),
    (country?.toUpperCase() as CountryCode) || undefined,
  );
  return parsed?.isValid() ? parsed.number : null;
};

const HIDDEN = "•";

/** First and last character, the middle as dots (at most 4, so long names do not show their length). */
const maskPart = (part: string): string => {
  const chars = [...part];
  if (chars.length <= 1) return HIDDEN;
  if (chars.length === 2) return `${chars[0]}${HIDDEN}`;
  return `${chars[0]}${HIDDEN.repeat(Math.min(chars.length - 2, 4))}${chars.at(-1)}`;
};

/** `maria-rosa@gmail.example` -> `m••••a@g•••l.example`: the domain's first label masked like the local part. */
export const maskEmail = (address: string): string => {
  const at = address.lastIndexOf("@");
  const [host = "", ...rest] = address.slice(at + 1).split(".");
  return `${maskPart(address.slice(0, at))}@${maskPart(host)}${rest.length ? `.${rest.join(".")}` : ""}`;
};

/**
 * `+32470123456` -> `+32 4•• •• •• 56`: grouped as the country writes it; only the country code, the
 * first national digit and the last two digits stay visible.
 */
export const maskPhone = (e164: string): string => {
  const parsed = parsePhoneNumberFromString(e164);
  const countryCode = parsed ? `+${parsed.countryCallingCode}` : "";
  const national = parsed ? parsed.formatInternational().slice(countryCode.length) : e164;
  const digits = national.replace(/\D/g, "").length;
  const keepFirst = digits >= 6 ? 1 : 0;
  const keepLast = digits >= 4 ? 2 : 0;
  let index = 0;
  const masked = national.replace(/\d/g, (digit) => {
    const visible = index < keepFirst || index >= digits - keepLast;
    index += 1;
    return visible ? digit : HIDDEN;
  });
  return `${countryCode}${masked}`;
};

export const maskAlternate = (kind: "email" | "phone", value: string): string =>
  kind === "email" ? maskEmail(value) : maskPhone(value);

/** The lock in force at `now`, if any: a brute_force lock past its end is no lock. */
export function activeLock(account: AccountRow, now: number): LockView | null {
  if (account.lock_reason === null || account.lock_since === null) return null;
  if (account.lock_until !== null && account.lock_until <= now) return null;
  return { reason: account.lock_reason, since: Number(account.lock_since), until: account.lock_until };
}

export const lockDurationMs = (level: number, rules: RiskRules): number =>
  Math.min(rules.bruteForceFirstLockMs * 2 ** Math.min(level, 30), rules.bruteForceMaxLockMs);

export type FailureChange = Pick<
  AccountRow,
  "failed_signins" | "failed_window_start" | "brute_force_level" | "lock_reason" | "lock_since" | "lock_until"
>;

/**
 * One more failed sign-in from a device the account does not know. Returns the new counters, and a
 * brute_force lock when the threshold is reached inside the window. A stronger lock (compromise,
 * abuse, admin) is never replaced by a temporary one.
 */
export function afterFailedSignin(
  account: AccountRow,
  now: number,
  rules: RiskRules,
): FailureChange & { locked: boolean } {
  const windowOpen =
    account.failed_window_start !== null && now - account.failed_window_start < rules.bruteForceWindowMs;
  const failed = windowOpen ? account.failed_signins + 1 : 1;
  const windowStart = windowOpen ? Number(account.failed_window_start) : now;
  const current = activeLock(account, now);
  const unchangedLock = {
    lock_reason: current ? account.lock_reason : null,
    lock_since: current ? account.lock_since : null,
    lock_until: current ? account.lock_until : null,
  };
  if (failed < rules.bruteForceThreshold || (current && current.reason !== "brute_force")) {
    return {
      failed_signins: failed,
      failed_window_start: windowStart,
      brute_force_level: account.brute_force_level,
      ...unchangedLock,
      locked: false,
    };
  }
  return {
    failed_signins: 0,
    failed_window_start: null,
    brute_force_level: account.brute_force_level + 1,
    lock_reason: "brute_force",
    lock_since: current ? Number(account.lock_since) : now,
    lock_until: now + lockDurationMs(account.brute_force_level, rules),
    locked: true,
  };
}

/** Whether a correct password gets in despite the lock: only a brute_force lock, from a known device. */
export const lockLetsKnownDeviceIn = (lock: LockView | null, deviceKnown: boolean): boolean =>
  lock === null || (lock.reason === "brute_force" && deviceKnown);

/** Locks that a successful recovery clears; abuse and admin locks stay for a person to review. */
export const recoveryClears = (reason: LockReason): boolean =>
  reason === "compromise" || reason === "brute_force";
