import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";
import type { RiskRules } from "../config.js";
import type { AccountsTable, LockReason, SigninThrottleTable } from "../db/schema.js";

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
// Lone surrogates too (\p{Cs}): PostgreSQL would store them as U+FFFD, joining different inputs.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

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

/**
 * `maria-rosa@gmail.example` -> `m••••a@g•••l.example`: every label but the last masked like the
 * local part, so a mask relays no text that someone typed (`…@x.call-0800-prize.evil.example`).
 */
export const maskEmail = (address: string): string => {
  const at = address.lastIndexOf("@");
  const labels = address.slice(at + 1).split(".");
  const last = labels.length > 1 ? labels.pop()! : null;
  return `${maskPart(address.slice(0, at))}@${[...labels.map(maskPart), ...(last === null ? [] : [last])].join(".")}`;
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

/** Strength of each lock: a lock is never replaced by a weaker one. */
const lockRank: Record<LockReason, number> = { brute_force: 1, compromise: 2, abuse: 3, admin: 4 };

/** Whether `asked` may replace `current` (a lock of the same or a stronger kind). */
export const lockMayReplace = (current: LockReason | null, asked: LockReason): boolean =>
  current === null || lockRank[asked] >= lockRank[current];

export type ThrottleRow = SigninThrottleTable;

/** The brute_force lock a throttle row holds at `now`, if any. */
export const throttleLock = (row: ThrottleRow | undefined, now: number): LockView | null =>
  row?.locked_until != null && row.locked_until > now
    ? { reason: "brute_force", since: Number(row.locked_since ?? now), until: Number(row.locked_until) }
    : null;

/** Failures counted in a window: whether this one opens a new window or adds to the running one. */
export function nextFailureCount(
  failures: number,
  windowStart: number | null,
  now: number,
  rules: RiskRules,
): { failures: number; windowStart: number } {
  const windowOpen = windowStart !== null && now - windowStart < rules.bruteForceWindowMs;
  return windowOpen ? { failures: failures + 1, windowStart } : { failures: 1, windowStart: now };
}

/**
 * One more failed sign-in on a throttle row (an address, known or not, from a device it does not
 * know). At the threshold inside the window the row becomes a brute_force lock, each one twice as
 * long as the previous, up to the maximum.
 */
export function throttleAfterFailure(
  row: ThrottleRow,
  now: number,
  rules: RiskRules,
): Omit<ThrottleRow, "key_hash"> & { locked: boolean } {
  const { failures, windowStart } = nextFailureCount(row.failures, row.window_start, now, rules);
  if (failures < rules.bruteForceThreshold)
    return { ...row, failures, window_start: windowStart, updated_at: now, locked: false };
  return throttleLocked(row, now, rules);
}

/** A throttle row turned into its next brute_force lock (failures start again afterwards). */
export const throttleLocked = (row: ThrottleRow, now: number, rules: RiskRules) => ({
  failures: 0,
  window_start: null,
  level: row.level + 1,
  locked_since: throttleLock(row, now)?.since ?? now,
  locked_until: now + lockDurationMs(row.level, rules),
  updated_at: now,
  locked: true as const,
});

/**
 * One more failed sign-in from a device the account knows. Its owner's typos should not lock her
 * out, but a stolen device cookie must not guess forever: at 3 times the threshold, inside the
 * window, the device is forgotten (`forget`), and from then on it is a stranger to the throttle.
 */
export function knownDeviceAfterFailure(
  device: { failed_signins: number; failed_window_start: number | null },
  now: number,
  rules: RiskRules,
): { failed_signins: number; failed_window_start: number; forget: boolean } {
  const { failures, windowStart } = nextFailureCount(
    device.failed_signins,
    device.failed_window_start,
    now,
    rules,
  );
  return {
    failed_signins: failures,
    failed_window_start: windowStart,
    forget: failures >= KNOWN_DEVICE_THRESHOLD_FACTOR * rules.bruteForceThreshold,
  };
}

export const KNOWN_DEVICE_THRESHOLD_FACTOR = 3;

/** Whether a correct password gets in despite the lock: only a brute_force lock, from a known device. */
export const lockLetsKnownDeviceIn = (lock: LockView | null, deviceKnown: boolean): boolean =>
  lock === null || (lock.reason === "brute_force" && deviceKnown);

/** Locks that a successful recovery clears; abuse and admin locks stay for a person to review. */
export const recoveryClears = (reason: LockReason): boolean =>
  reason === "compromise" || reason === "brute_force";

/** How many previous password hashes are kept, and refused as a new password (besides the current). */
export const PASSWORD_HISTORY_SIZE = 5;
