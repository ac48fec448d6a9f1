/** Error codes of this feature (HTTP status each); the central catalogue (platform/errors.ts) spreads them. */
export const timersErrors = {} as const;
