/**
 * A feature's messages in the four languages: English gives the keys, and the type checker makes
 * the other three carry exactly those keys. The central catalogues (platform/locales) spread them.
 */
export const defineMessages = <const E extends Record<string, string>>(catalogues: {
  en: E;
  fr: Record<keyof E, string>;
  nl: Record<keyof E, string>;
  de: Record<keyof E, string>;
}) => catalogues;
