/** Error codes of messaging (HTTP status each); the central catalogue (platform/errors.ts) spreads them. */
export const messagingErrors = {} as const;
