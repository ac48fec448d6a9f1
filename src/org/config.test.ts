import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, loadConfig } from "../config.js";
import { demoOrganisation, loadOrganisation } from "./config.js";

const example = readFileSync(new URL("../../examples/organisation.yaml", import.meta.url), "utf8");
const dir = mkdtempSync(join(tmpdir(), "sesame-org-"));
let files = 0;
const file = (text: string, ext = "yaml") => {
  const path = join(dir, `org-${++files}.${ext}`);
  writeFileSync(path, text);
  return path;
};
/** The 1-based line of the first occurrence of `needle` in `text`. */
const lineOf = (text: string, needle: string) => {
  const index = text.indexOf(needle);
  expect(index).toBeGreaterThanOrEqual(0);
  return text.slice(0, index).split("\n").length;
};
const failure = (text: string, ext = "yaml"): { path: string; message: string } => {
  const path = file(text, ext);
  try {
    loadOrganisation(path);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { path, message: (error as Error).message };
  }
  throw new Error("expected a ConfigError");
};

describe("organisation config", () => {
  it("ships an example file equal to the built-in demo", () => {
    expect(loadOrganisation("examples/organisation.yaml")).toStrictEqual(demoOrganisation);
  });

  it("uses the demo when SESAME_CONFIG is unset or empty", () => {
    expect(loadOrganisation(undefined)).toBe(demoOrganisation);
    expect(loadOrganisation("")).toBe(demoOrganisation);
    const base = { SESAME_SECRET: "s".repeat(32), DATABASE_URL: "sqlite::memory:" };
    expect(loadConfig(base).organisation).toBe(demoOrganisation);
  });

  it("reads the same organisation from JSON", () => {
    const path = file(JSON.stringify(parse(example), null, 2), "json");
    expect(loadOrganisation(path)).toStrictEqual(demoOrganisation);
    const base = { SESAME_SECRET: "s".repeat(32), DATABASE_URL: "sqlite::memory:", SESAME_CONFIG: path };
    expect(loadConfig(base).organisation).toStrictEqual(demoOrganisation);
  });

  it("names the path and line of a bad time zone", () => {
    const text = example.replace("timeZone: Europe/Dublin", "timeZone: Europe/Nowhere");
    const { path, message } = failure(text);
    expect(message).toBe(
      `SESAME_CONFIG ${path}: teams[2].timeZone (line ${lineOf(text, "Europe/Nowhere")}): "Europe/Nowhere" is not a time zone (IANA name such as Europe/Brussels)`,
    );
  });

  it("names an unknown key, and a required one that is missing, with their lines", () => {
    const text = example.replace("timeZone: Africa/Casablanca", "timezone: Africa/Casablanca");
    const { message } = failure(text);
    expect(message).toContain(`teams[1].timezone (line ${lineOf(text, "timezone:")}): unknown key`);
    expect(message).toContain(`teams[1].timeZone (line ${lineOf(text, "- id: casablanca")}): is required`);
  });

  it("refuses an unknown top-level key and a JSON file with a bad value, with lines", () => {
    expect(failure(`${example}\nescalation: fast\n`).message).toMatch(
      /: escalation \(line \d+\): unknown key/,
    );
    const json = JSON.stringify(parse(example), null, 2).replace('"tier": 3', '"tier": 4');
    expect(failure(json, "json").message).toContain(
      `teams[4].tier (line ${lineOf(json, '"tier": 4')}): Expected integer`,
    );
  });

  it("refuses a duplicate team id", () => {
    const text = example.replace("id: dublin", "id: maastricht");
    expect(failure(text).message).toContain(
      `teams[2].id (line ${lineOf(text, "id: maastricht\n    name: Support")}): "maastricht" is already the id of teams[0]`,
    );
  });

  it("refuses overnight or malformed hours and unknown days", () => {
    const overnight = example.replace('Mon-Fri: "08:00-18:00"', 'Mon-Fri: "18:00-08:00"');
    expect(failure(overnight).message).toContain(
      `teams[0].hours.Mon-Fri (line ${lineOf(overnight, "18:00-08:00")}): "18:00-08:00" closes before it opens`,
    );
    expect(failure(example.replace('Mon-Fri: "08:00-18:00"', 'Mon-Fri: "09:00-09:00"')).message).toContain(
      'teams[0].hours.Mon-Fri (line 18): "09:00-09:00" closes before it opens',
    );
    expect(failure(example.replace('Mon-Fri: "08:00-18:00"', 'Mon-Fri: "8 to 6"')).message).toContain(
      `teams[0].hours.Mon-Fri (line 18): "8 to 6" is not an opening period`,
    );
    expect(failure(example.replace('Mon-Fri: "08:00-18:00"', 'Mon-Fry: "08:00-18:00"')).message).toContain(
      `teams[0].hours.Mon-Fry (line 18): "Mon-Fry" is not a day or a day range`,
    );
    expect(failure(example.replace('Mon-Fri: "08:00-18:00"', 'Mon-Fri: "closed"')).message).toContain(
      "teams[0].hours (line 17): the team is open on no day of the week",
    );
  });

  it("refuses an unknown holiday country or state", () => {
    const text = example.replace("holidays: NL", "holidays: XX");
    expect(failure(text).message).toContain(
      `teams[0].holidays (line ${lineOf(text, "holidays: XX")}): "XX" is not a country known to date-holidays`,
    );
    expect(failure(example.replace("holidays: NL", "holidays: {country: US, state: ZZ}")).message).toContain(
      'teams[0].holidays.state (line 19): "ZZ" is not a state or region of US',
    );
  });

  it("refuses an organisation without a tier-3 team, or with two", () => {
    const noTop = example
      .replace("tier: 3", "tier: 2")
      .replace(
        "countries: any\n    timeZone: America/Los_Angeles",
        "countries: [US]\n    timeZone: America/Los_Angeles",
      );
    expect(failure(noTop).message).toContain("teams (line 10): no tier-3 team");
    const two = example.replace(
      "id: belux\n    name: Belgium-Luxembourg team\n    tier: 2",
      "id: belux\n    name: Belgium-Luxembourg team\n    tier: 3",
    );
    expect(failure(two).message).toContain(
      'teams[4].tier (line 65): a second tier-3 team ("belux" is already tier 3)',
    );
  });

  it("refuses an organisation without a fallback tier-1 team for other languages", () => {
    expect(failure(example.replace("languages: [en, de, other]", "languages: [en, de]")).message).toContain(
      'teams (line 10): no fallback team: one tier-1 team needs languages including "other"',
    );
  });

  it("refuses a language or a country served twice at the same tier", () => {
    const twice = example.replace("languages: [en, de, other]", "languages: [en, nl, other]");
    expect(failure(twice).message).toContain(
      `teams[2] (line ${lineOf(twice, "- id: dublin")}): language "nl" for any country is already served by teams[0] ("maastricht") at tier 1`,
    );
  });

  it("refuses bad durations, duplicate policies and unordered customer-clock limits", () => {
    expect(failure(example.replace("firstResponse: 4h", "firstResponse: 4 hours")).message).toContain(
      'sla[0].firstResponse (line 80): "4 hours" is not a duration such as 4h',
    );
    expect(
      failure(example.replace("  - tier: 3\n    priority: normal", "  - tier: 2\n    priority: normal"))
        .message,
    ).toContain('sla[2].priority (line 88): tier 2 already has a "normal" policy');
    expect(
      failure(example.replace("customerClockLimits: [3d, 7d]", "customerClockLimits: [7d, 3d]")).message,
    ).toContain('customerClockLimits[1] (line 93): "3d" must be longer than the limit before it');
  });

  it("explains a missing file, an empty file and a syntax error", () => {
    expect(() => loadOrganisation(join(dir, "missing.yaml"))).toThrow(
      new ConfigError(`SESAME_CONFIG ${join(dir, "missing.yaml")}: cannot read the file (ENOENT)`),
    );
    expect(failure("").message).toMatch(/: the file is empty$/);
    expect(failure("teams:\n  - id: [unclosed\n").message).toMatch(/: not valid YAML or JSON \(line \d+\)/);
    const base = { SESAME_SECRET: "s".repeat(32), DATABASE_URL: "sqlite::memory:" };
    expect(() => loadConfig({ ...base, SESAME_CONFIG: join(dir, "missing.yaml") })).toThrow(ConfigError);
  });
});
