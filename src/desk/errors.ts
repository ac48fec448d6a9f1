/** Error codes of the desk (HTTP status each); the central catalogue (platform/errors.ts) spreads them. */
export const deskErrors = {
  ERR_CASE_NOT_FOUND: 404,
  ERR_TEAM_NOT_FOUND: 404,
  ERR_CASE_RESOLVED: 409,
  ERR_CASE_AT_TOP_TIER: 409,
  ERR_TOO_MANY_CASES: 429,
} as const;
