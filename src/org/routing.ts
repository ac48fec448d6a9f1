import { baseLanguage, describeHours, type Organisation, type Team, type Tier } from "./model.js";

/**
 * Routing, from the teams' own `languages` and `countries` (config validation guarantees one fallback
 * tier-1 team with "other" for any country, exactly one tier-3 team, and no language or country claimed
 * twice at the same tier):
 * - tier 1: the tier-1 team that speaks the language and serves the country (or "any"); a team naming
 *   the country wins over an "any" team; no such team: the tier-1 team with "other".
 * - tier 2: the tier-2 team that names the country; none (or country unknown): the tier-3 team.
 * - tier 3: the tier-3 team.
 */

const serves = (team: Team, country: string | null): boolean =>
  team.countries === "any" || (country !== null && team.countries.includes(country));

const normalCountry = (country: string | null): string | null =>
  country === null || country.trim() === "" ? null : country.trim().toUpperCase();

/** Teams of a tier serving the country, the ones naming it first. */
const candidates = (org: Organisation, tier: Tier, country: string | null): Team[] => {
  const teams = org.teams.filter((team) => team.tier === tier && serves(team, country));
  return [
    ...teams.filter((team) => team.countries !== "any"),
    ...teams.filter((team) => team.countries === "any"),
  ];
};

export function tier1Team(org: Organisation, language: string, country: string | null): Team {
  const lang = baseLanguage(language);
  const teams = candidates(org, 1, normalCountry(country));
  const team =
    teams.find((candidate) => candidate.languages.includes(lang)) ??
    teams.find((candidate) => candidate.languages.includes("other"));
  if (team === undefined) throw new Error("organisation has no tier-1 fallback team (languages: other)");
  return team;
}

/** The country team, else the tier-3 team. */
export function tier2Team(org: Organisation, country: string | null): Team {
  const code = normalCountry(country);
  return (
    org.teams.find(
      (team) => team.tier === 2 && code !== null && team.countries !== "any" && team.countries.includes(code),
    ) ?? tier3Team(org)
  );
}

export function tier3Team(org: Organisation): Team {
  const team = org.teams.find((candidate) => candidate.tier === 3);
  if (team === undefined) throw new Error("organisation has no tier-3 team");
  return team;
}

/**
 * The team a case goes to when raised from its current tier: from tier 1 the country team (or tier 3
 * when the country has none), from tier 2 the tier-3 team, from tier 3 nothing (null).
 */
export function nextTier(org: Organisation, current: { tier: number; country: string | null }): Team | null {
  if (current.tier <= 1) return tier2Team(org, current.country);
  if (current.tier === 2) return tier3Team(org);
  return null;
}

export function teamById(org: Organisation, id: string): Team | undefined {
  return org.teams.find((team) => team.id === id);
}

/** The address part of `Name <local@domain>` or `local@domain`, lower case, without a +tag. */
const canonicalAddress = (address: string): string | null => {
  const bracketed = /<([^>]*)>/.exec(address);
  const bare = (bracketed?.[1] ?? address).trim().toLowerCase();
  const at = bare.lastIndexOf("@");
  if (at <= 0 || at === bare.length - 1) return null;
  const local = bare.slice(0, at);
  const plus = local.indexOf("+");
  return `${plus > 0 ? local.slice(0, plus) : local}@${bare.slice(at + 1)}`;
};

/**
 * The team whose mailbox this address is, case-insensitively; `belux+1234@support.example` and
 * `Belux Team <BELUX@support.example>` are belux's.
 */
export function teamByEmail(org: Organisation, address: string): Team | undefined {
  const wanted = canonicalAddress(address);
  if (wanted === null) return undefined;
  return org.teams.find((team) => canonicalAddress(team.email) === wanted);
}

export interface ContactPhone {
  number: string;
  label?: string;
  teamId: string;
  teamName: string;
  timeZone: string;
  /** Opening hours in the team's time zone, e.g. "Mon-Fri 08:00-18:00". */
  hours: string;
}

/**
 * What the help centre shows a visitor of this language and country: the phones of their tier-1 team
 * and of their country team (with opening hours), and the country team's direct email address (absent
 * when the country has no country team). `teams`: tier-1 team first, then the country team if any.
 */
export function contactOptions(
  org: Organisation,
  language: string,
  country: string | null,
): { phones: ContactPhone[]; email?: string; teams: Team[] } {
  const first = tier1Team(org, language, country);
  const second = tier2Team(org, country);
  const countryTeam = second.tier === 2 ? second : undefined;
  const teams = countryTeam === undefined ? [first] : [first, countryTeam];
  const phones = teams.flatMap((team) =>
    team.phones.map((phone) => ({
      number: phone.number,
      ...(phone.label === undefined ? {} : { label: phone.label }),
      teamId: team.id,
      teamName: team.name,
      timeZone: team.timeZone,
      hours: describeHours(team.hours),
    })),
  );
  return countryTeam === undefined ? { phones, teams } : { phones, email: countryTeam.email, teams };
}
