import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { demoOrganisation as org, parseOrganisation } from "./config.js";
import {
  contactOptions,
  nextTier,
  teamByEmail,
  teamById,
  tier1Team,
  tier2Team,
  tier3Team,
} from "./routing.js";
import { deadlines, slaTargets } from "./sla.js";

const id = (team: { id: string } | null | undefined) => team?.id ?? null;

describe("routing", () => {
  it("sends a French speaker from Belgium to casablanca, then belux, then corp", () => {
    expect(id(tier1Team(org, "fr", "BE"))).toBe("casablanca");
    expect(id(tier2Team(org, "BE"))).toBe("belux");
    expect(id(tier3Team(org))).toBe("corp");
    expect(id(nextTier(org, { tier: 1, country: "BE" }))).toBe("belux");
    expect(id(nextTier(org, { tier: 2, country: "BE" }))).toBe("corp");
    expect(nextTier(org, { tier: 3, country: "BE" })).toBeNull();
  });

  it("has corp as tier 2 for a country without a country team", () => {
    expect(id(tier1Team(org, "fr", "FR"))).toBe("casablanca");
    expect(id(tier2Team(org, "FR"))).toBe("corp");
    expect(id(nextTier(org, { tier: 1, country: "FR" }))).toBe("corp");
    expect(id(tier2Team(org, null))).toBe("corp");
  });

  it("sends Dutch to maastricht, other languages to dublin, German from Luxembourg to dublin then belux", () => {
    expect(id(tier1Team(org, "nl", "NL"))).toBe("maastricht");
    expect(id(tier1Team(org, "nl", null))).toBe("maastricht");
    expect(id(tier1Team(org, "es", "ES"))).toBe("dublin");
    expect(id(tier1Team(org, "de", "LU"))).toBe("dublin");
    expect(id(nextTier(org, { tier: 1, country: "LU" }))).toBe("belux");
  });

  it("reads language tags and country codes in any case", () => {
    expect(id(tier1Team(org, "fr-BE", "be"))).toBe("casablanca");
    expect(id(tier1Team(org, "NL", null))).toBe("maastricht");
    expect(id(tier2Team(org, "lu"))).toBe("belux");
  });

  it("prefers a tier-1 team that names the country over an 'any' team of the same language", () => {
    const text = `
teams:
  - {id: montreal, name: Montréal, tier: 1, languages: [fr], countries: [CA], timeZone: America/Toronto,
     hours: {Mon-Fri: "09:00-17:00"}, email: montreal@support.example}
  - {id: casablanca, name: Casablanca, tier: 1, languages: [fr], countries: any, timeZone: Africa/Casablanca,
     hours: {Mon-Sat: "08:00-20:00"}, email: casablanca@support.example}
  - {id: dublin, name: Dublin, tier: 1, languages: [en, other], countries: any, timeZone: Europe/Dublin,
     hours: {Mon-Fri: "08:00-18:00"}, email: dublin@support.example}
  - {id: corp, name: Corp, tier: 3, languages: [en], countries: any, timeZone: America/Los_Angeles,
     hours: {Mon-Fri: "09:00-17:00"}, email: corp@support.example}
`;
    const custom = parseOrganisation(text);
    expect(id(tier1Team(custom, "fr", "CA"))).toBe("montreal");
    expect(id(tier1Team(custom, "fr", "FR"))).toBe("casablanca");
    expect(id(tier1Team(custom, "en", "CA"))).toBe("dublin");
  });

  it("finds teams by id and by mailbox, plus-addresses and display names included", () => {
    expect(id(teamById(org, "belux"))).toBe("belux");
    expect(teamById(org, "nowhere")).toBeUndefined();
    expect(id(teamByEmail(org, "belux@support.example"))).toBe("belux");
    expect(id(teamByEmail(org, "belux+case-ABC123@support.example"))).toBe("belux");
    expect(id(teamByEmail(org, "Corporate <CORP@Support.Example>"))).toBe("corp");
    expect(teamByEmail(org, "belux@elsewhere.example")).toBeUndefined();
    expect(teamByEmail(org, "someone@support.example")).toBeUndefined();
    expect(teamByEmail(org, "not an address")).toBeUndefined();
  });

  it("shows the help centre the tier-1 phones and the country team's phone and email", () => {
    const be = contactOptions(org, "fr", "BE");
    expect(be.teams.map((team) => team.id)).toEqual(["casablanca", "belux"]);
    expect(be.email).toBe("belux@support.example");
    expect(be.phones).toEqual([
      {
        number: "+212 522 000 000",
        teamId: "casablanca",
        teamName: "French-speaking support (Casablanca)",
        timeZone: "Africa/Casablanca",
        hours: "Mon-Sat 08:00-20:00",
      },
      {
        number: "+32 2 000 00 00",
        teamId: "belux",
        teamName: "Belgium-Luxembourg team",
        timeZone: "Europe/Brussels",
        hours: "Mon-Fri 09:00-17:00",
      },
    ]);
    const nl = contactOptions(org, "nl", "NL");
    expect(nl.teams.map((team) => team.id)).toEqual(["maastricht"]);
    expect(nl.email).toBeUndefined();
    expect(nl.phones.map((phone) => phone.number)).toEqual(["+31 43 000 0000"]);
    expect(contactOptions(org, "en", null).phones.map((phone) => phone.teamId)).toEqual(["dublin"]);
  });
});

describe("SLA", () => {
  const team = (teamId: string) => teamById(org, teamId)!;
  const local = (teamId: string, text: string) =>
    DateTime.fromISO(text, { zone: team(teamId).timeZone }).toMillis();

  it("has the demo targets in business minutes, days in the team's working day", () => {
    expect(slaTargets(org, 1, "normal", team("maastricht"))).toEqual({
      firstResponseMin: 240,
      nextUpdateMin: 480,
      resolutionMin: 1800,
    });
    expect(slaTargets(org, 1, "normal", team("casablanca")).resolutionMin).toBe(2160);
    expect(slaTargets(org, 1).resolutionMin).toBe(1800); // first tier-1 team: maastricht
    expect(slaTargets(org, 2)).toEqual({ firstResponseMin: 480, nextUpdateMin: 480 });
    expect(slaTargets(org, 3)).toEqual({ firstResponseMin: 480 });
    expect(slaTargets(org, 2, "urgent")).toEqual(slaTargets(org, 2, "normal"));
  });

  it("uses a priority's own policy when the config has one", () => {
    const text = `
teams:
  - {id: dublin, name: Dublin, tier: 1, languages: [en, other], countries: any, timeZone: Europe/Dublin,
     hours: {Mon-Fri: "08:00-18:00"}, email: dublin@support.example}
  - {id: corp, name: Corp, tier: 3, languages: [en], countries: any, timeZone: America/Los_Angeles,
     hours: {Mon-Fri: "09:00-17:00"}, email: corp@support.example}
sla:
  - {tier: 1, firstResponse: 4h}
  - {tier: 1, priority: urgent, firstResponse: 1h30m}
`;
    const custom = parseOrganisation(text);
    expect(slaTargets(custom, 1, "urgent")).toEqual({ firstResponseMin: 90 });
    expect(slaTargets(custom, 1, "low")).toEqual({ firstResponseMin: 240 });
    expect(slaTargets(custom, 3)).toEqual({});
  });

  it("puts a maastricht case opened Monday 10:00 due Monday 14:00, 18:00 and Thursday 10:00", () => {
    const due = deadlines(org, team("maastricht"), local("maastricht", "2026-11-30T10:00"), "normal");
    expect(due).toEqual({
      firstResponse: local("maastricht", "2026-11-30T14:00"),
      nextUpdate: local("maastricht", "2026-11-30T18:00"), // exactly closing time: stays there
      resolution: local("maastricht", "2026-12-03T10:00"),
    });
  });

  it("gives tier 2 and tier 3 only the targets their policies set", () => {
    const belux = deadlines(org, team("belux"), local("belux", "2026-11-30T13:00"));
    expect(belux).toEqual({
      firstResponse: local("belux", "2026-12-01T13:00"),
      nextUpdate: local("belux", "2026-12-01T13:00"),
    });
    // Corp on Thanksgiving morning: closed all day, 8 h = all of Friday.
    const corp = deadlines(org, team("corp"), Date.UTC(2026, 10, 26, 9));
    expect(corp).toEqual({ firstResponse: local("corp", "2026-11-27T17:00") });
  });
});
