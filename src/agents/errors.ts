/** Error codes of this feature (HTTP status each); the central catalogue (platform/errors.ts) spreads them. */
export const agentsErrors = {
  /** One answer for every failed sign-in: unknown email, wrong password, wrong or reused code, throttled, disabled. */
  ERR_AGENT_SIGNIN_FAILED: 401,
  /** A setup link that is unknown, used or expired: one answer for all three. */
  ERR_AGENT_SETUP_LINK: 410,
  /** No or unknown agent credentials on an agent route. */
  ERR_AGENT_UNAUTHORIZED: 401,
  /** A wrong first code when confirming the authenticator app at setup. */
  ERR_AGENT_CODE_INVALID: 400,
  ERR_AGENT_EXISTS: 409,
  ERR_AGENT_NOT_FOUND: 404,
  ERR_AGENT_EMAIL_INVALID: 400,
  ERR_AGENT_ROLE_INVALID: 400,
  ERR_AGENT_TEAM_UNKNOWN: 400,
  ERR_AGENT_TEAMS_EMPTY: 400,
} as const;
