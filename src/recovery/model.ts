import { normalizePhone } from "../accounts/model.js";
import { HOUR, MINUTE } from "../platform/clock.js";

/** How long a one-time code lives: 24 hours by email (as in the story), 10 minutes by SMS. */
export const codeTtlMs = { email: 24 * HOUR, phone: 10 * MINUTE } as const;
export const LONGEST_CODE_TTL_MS = Math.max(...Object.values(codeTtlMs));

/** After the code, the new password must be chosen within this time. */
export const PASSWORD_STEP_TTL_MS = 30 * MINUTE;

/** Digits, spaces and the usual separators: enough to tell "a phone number" from garbage, for anyone. */
export const looksLikePhone = (value: string): boolean => {
  const digits = value.replace(/\D/g, "");
  return /^\+?[\d\s().\-/]+$/.test(value.trim()) && digits.length >= 6 && digits.length <= 17;
};

/**
 * A typed phone number as the pages show it: E.164 when it carries its country (`+32…`, `0032…`)
 * or can be read in the deployment's default country, else the digits as typed.
 */
export const typedPhoneForDisplay = (typed: string, defaultCountry: string | null): string => {
  const compact = typed.replace(/[^\d+]/g, "").replace(/^00/, "+");
  return normalizePhone(compact, defaultCountry) ?? compact;
};

export const codeInput = (code: string): string => code.replace(/\s/g, "");

/**
 * When did this person's problem start? The earliest attempt since their last successful recovery:
 * that is where the customer clock starts, and it never moves afterwards.
 */
export function firstAttemptOf(
  attempts: Array<{ startedAt: number; completedAt: number | null }>,
): number | null {
  const lastSuccess = Math.max(0, ...attempts.map((a) => a.completedAt ?? 0));
  // Attempts that ended by that success (itself, or others it closed) belong to the old problem.
  const open = attempts
    .filter((a) => a.startedAt >= lastSuccess && (a.completedAt === null || a.completedAt > lastSuccess))
    .map((a) => a.startedAt);
  return open.length > 0 ? Math.min(...open) : null;
}

/** A typed code counts as a try only when it is well formed: 6 digits, spaces allowed. */
export const isWellFormedCode = (code: string): boolean => /^\d{6}$/.test(codeInput(code));
