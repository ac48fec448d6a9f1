import { de } from "./locales/de.js";
import { en, type MessageKey } from "./locales/en.js";
import { fr } from "./locales/fr.js";
import { nl } from "./locales/nl.js";

export const locales = ["fr", "nl", "en", "de"] as const;
export type Locale = (typeof locales)[number];
export const defaultLocale: Locale = "en";
export const localeNames: Record<Locale, string> = {
  fr: "Français",
  nl: "Nederlands",
  en: "English",
  de: "Deutsch",
};

const catalogues: Record<Locale, Record<MessageKey, string>> = { en, fr, nl, de };

export type { MessageKey };
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export const isLocale = (value: unknown): value is Locale =>
  typeof value === "string" && (locales as readonly string[]).includes(value);

/** A BCP 47 tag ("fr-BE", "nl") reduced to one of our languages, or null. */
export const toLocale = (tag: string | null | undefined): Locale | null => {
  const base = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return isLocale(base) ? base : null;
};

/**
 * Each message split once at its placeholders (odd entries are their names): a regular expression
 * replace on every call was 2% of a code request, which fills three messages. Bounded: the keys are
 * the catalogues' own.
 */
const partsOf = new Map<string, string[]>();

export function translator(locale: Locale): Translate {
  const catalogue = catalogues[locale];
  return (key, params = {}) => {
    const message = catalogue[key];
    let parts = partsOf.get(message);
    if (parts === undefined) {
      parts = message.split(/\{(\w+)\}/);
      partsOf.set(message, parts);
    }
    let text = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) {
      const name = parts[i]!;
      text += (name in params ? String(params[name]) : `{${name}}`) + parts[i + 1];
    }
    return text;
  };
}

/** Best language of an Accept-Language header, honouring q-values. */
export function fromAcceptLanguage(header: string | undefined): Locale | null {
  if (!header) return null;
  const ranked = header
    .split(",")
    .map((part) => {
      const [tag, ...rest] = part.trim().split(";");
      const q = rest.find((p) => p.trim().startsWith("q="));
      return { locale: toLocale(tag), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((r): r is { locale: Locale; q: number } => r.locale !== null && r.q > 0)
    .sort((a, b) => b.q - a.q);
  return ranked[0]?.locale ?? null;
}

/** Locale from the URL or form first, then the account, then Accept-Language. */
export function pickLocale(...candidates: Array<string | null | undefined>): Locale {
  for (const candidate of candidates) {
    const locale = toLocale(candidate);
    if (locale) return locale;
  }
  return defaultLocale;
}

export function formatInstant(at: number, locale: Locale, timeZone = "Europe/Brussels"): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short", timeZone }).format(at);
}
