import { agentsErrors } from "../agents/errors.js";
import { deskErrors } from "../desk/errors.js";
import { messagingErrors } from "../messaging/errors.js";
import { timersErrors } from "../timers/errors.js";

const coreErrors = {
  ERR_VALIDATION: 400,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404,
  ERR_ACCOUNT_EXISTS: 409,
  ERR_ACCOUNT_NOT_FOUND: 404,
  ERR_INVALID_CREDENTIALS: 401,
  ERR_ACCOUNT_LOCKED: 423,
  ERR_SESSION_INVALID: 401,
  ERR_RECOVERY_NOT_FOUND: 404,
  ERR_RECOVERY_STEP: 409,
  ERR_RECOVERY_EXPIRED: 410,
  ERR_PASSWORD_TOKEN: 403,
  ERR_CODE_FORMAT: 400,
  ERR_CODE_SUPERSEDED: 410,
  ERR_LINK_INVALID: 400,
  ERR_TOO_MANY_WRONG_CODES: 429,
  ERR_TOO_MANY_STARTS: 429,
  ERR_ADDRESS_EMPTY: 400,
  ERR_ADDRESS_INCOMPLETE: 400,
  ERR_BACKUP_EMPTY: 400,
  ERR_BACKUP_IS_ACCOUNT: 400,
  ERR_CONTACT_EMPTY: 400,
  ERR_PASSWORD_EMPTY: 400,
  ERR_PASSWORD_MISMATCH: 400,
  ERR_CODE_INVALID: 400,
  ERR_CODE_EXPIRED: 410,
  ERR_TOO_MANY_ATTEMPTS: 429,
  ERR_TOO_MANY_CODES: 429,
  ERR_RATE_LIMITED: 429,
  ERR_PASSWORD_WEAK: 400,
  ERR_PASSWORD_REUSED: 400,
  ERR_CONTACT_IS_ACCOUNT: 400,
  ERR_PHONE_INVALID: 400,
  ERR_CLOCK_NOT_MANUAL: 403,
  ERR_CSRF: 403,
  ERR_INTERNAL: 500,
  ERR_UNAVAILABLE: 503,
  ERR_CHANNEL_UNAVAILABLE: 400,
  ERR_EMAIL_UNAVAILABLE: 400,
} as const;

/**
 * The one catalogue of coded errors, built from each feature's own. Each code has its HTTP status;
 * its message is the i18n key `error.<CODE>` so every error reaches the person in their language.
 */
export const errorCatalogue = {
  ...coreErrors,
  ...messagingErrors,
  ...timersErrors,
  ...deskErrors,
  ...agentsErrors,
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/** An expected failure: it carries its code, optional details for the client, and never internals. */
export class AppError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    readonly details: Record<string, unknown> = {},
    /** Values interpolated into the localised message. */
    readonly params: Record<string, string | number> = {},
  ) {
    super(code);
    this.name = "AppError";
    this.statusCode = errorCatalogue[code];
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
