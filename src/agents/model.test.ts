import { describe, expect, it } from "vitest";
import { AppError } from "../platform/errors.js";
import {
  canSeeTeam,
  newTotpSecret,
  TOTP_PERIOD_MS,
  totpCodeAt,
  totpStepMatching,
  totpStepOf,
  type Viewer,
  validateNewAgent,
} from "./model.js";

const agentOf = (role: "agent" | "supervisor" | "admin", teams: string[]): Viewer => ({
  kind: "agent",
  agentId: "a1",
  email: "a@desk.example",
  name: "A",
  role,
  teams,
});

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
  return null;
};

describe("canSeeTeam", () => {
  it("lets an agent of team A see team A and not team B", () => {
    const viewer = agentOf("agent", ["casablanca"]);
    expect(canSeeTeam(viewer, "casablanca")).toBe(true);
    expect(canSeeTeam(viewer, "belux")).toBe(false);
  });

  it("lets supervisors, admins and integrations see every team", () => {
    expect(canSeeTeam(agentOf("supervisor", ["casablanca"]), "belux")).toBe(true);
    expect(canSeeTeam(agentOf("admin", []), "corp")).toBe(true);
    expect(canSeeTeam({ kind: "service" }, "corp")).toBe(true);
  });
});

describe("validateNewAgent", () => {
  const known = ["casablanca", "belux"];

  it("lower-cases the email, trims and de-duplicates teams, names the agent after the address by default", () => {
    expect(
      validateNewAgent(
        {
          email: " Jo.Smith@Desk.Example ",
          role: "supervisor",
          teams: ["casablanca", " belux", "casablanca"],
        },
        known,
      ),
    ).toEqual({
      email: "jo.smith@desk.example",
      name: "jo.smith",
      role: "supervisor",
      teams: ["casablanca", "belux"],
    });
  });

  it("refuses an unknown team, naming it", () => {
    expect(
      codeOf(() =>
        validateNewAgent({ email: "a@b.example", role: "agent", teams: ["casablanca", "t9"] }, known),
      ),
    ).toBe("ERR_AGENT_TEAM_UNKNOWN");
  });

  it("refuses an unknown role, no team, a malformed email", () => {
    expect(
      codeOf(() => validateNewAgent({ email: "a@b.example", role: "boss", teams: ["casablanca"] }, known)),
    ).toBe("ERR_AGENT_ROLE_INVALID");
    expect(
      codeOf(() => validateNewAgent({ email: "a@b.example", role: "agent", teams: [" ", ""] }, known)),
    ).toBe("ERR_AGENT_TEAMS_EMPTY");
    expect(
      codeOf(() => validateNewAgent({ email: "not-an-email", role: "agent", teams: ["casablanca"] }, known)),
    ).toBe("ERR_AGENT_EMAIL_INVALID");
  });
});

describe("TOTP", () => {
  const at = Date.UTC(2026, 10, 26, 9, 0, 0);

  it("matches the current code to the current step, and one step of drift either way", () => {
    const secret = newTotpSecret();
    expect(totpStepMatching(secret, totpCodeAt(secret, at), at)).toBe(totpStepOf(at));
    expect(totpStepMatching(secret, totpCodeAt(secret, at - TOTP_PERIOD_MS), at)).toBe(totpStepOf(at) - 1);
    expect(totpStepMatching(secret, totpCodeAt(secret, at + TOTP_PERIOD_MS), at)).toBe(totpStepOf(at) + 1);
  });

  it("refuses a code two steps old, another secret's code and anything that is not six digits", () => {
    const secret = newTotpSecret();
    expect(totpStepMatching(secret, totpCodeAt(secret, at - 2 * TOTP_PERIOD_MS), at)).toBeNull();
    const other = newTotpSecret();
    const code = totpCodeAt(other, at);
    if (code !== totpCodeAt(secret, at)) expect(totpStepMatching(secret, code, at)).toBeNull();
    expect(totpStepMatching(secret, "12345", at)).toBeNull();
    expect(totpStepMatching(secret, ` ${totpCodeAt(secret, at)}`, at)).toBeNull();
  });
});
