import { Secret, TOTP } from "otpauth";
import { AppError } from "../platform/errors.js";

/** Who an agent is on the desk; pure rules, no I/O. */
export const roles = ["agent", "supervisor", "admin"] as const;
export type Role = (typeof roles)[number];

export const isRole = (value: unknown): value is Role =>
  typeof value === "string" && (roles as readonly string[]).includes(value);

/** Who is asking: a signed-in agent (session or personal token), or an integration with SESAME_API_TOKEN. */
export type Viewer =
  | { kind: "agent"; agentId: string; email: string; name: string; role: Role; teams: string[] }
  | { kind: "service" };

/** Supervisors, admins and integrations see every team; an agent only their own. */
export const canSeeTeam = (viewer: Viewer, team: string): boolean =>
  viewer.kind === "service" || viewer.role !== "agent" || viewer.teams.includes(team);

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface NewAgent {
  email: string;
  name: string;
  role: Role;
  teams: string[];
}

/**
 * Checks what `sesame agent add` was given: an email, a known role, at least one team, every team
 * one of the organisation's. Throws the coded error that names what is wrong.
 */
export function validateNewAgent(
  input: { email: string; name?: string | undefined; role: string; teams: string[] },
  knownTeams: readonly string[],
): NewAgent {
  const email = normalizeEmail(input.email);
  if (email.length > 254 || !EMAIL.test(email)) throw new AppError("ERR_AGENT_EMAIL_INVALID");
  if (!isRole(input.role)) throw new AppError("ERR_AGENT_ROLE_INVALID", { roles: [...roles] });
  const teams = [...new Set(input.teams.map((team) => team.trim()).filter((team) => team !== ""))];
  if (teams.length === 0) throw new AppError("ERR_AGENT_TEAMS_EMPTY");
  const unknown = teams.filter((team) => !knownTeams.includes(team));
  if (unknown.length > 0)
    throw new AppError(
      "ERR_AGENT_TEAM_UNKNOWN",
      { unknown, known: [...knownTeams] },
      { teams: unknown.join(", ") },
    );
  const name = (input.name ?? "").trim() || email.split("@")[0]!;
  return { email, name: name.slice(0, 200), role: input.role, teams };
}

export const parseTeams = (json: string): string[] => {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
};

/** TOTP as every authenticator app knows it: SHA-1, 6 digits, 30-second steps (RFC 6238). */
export const TOTP_PERIOD_MS = 30_000;
const ISSUER = "Sesame";

export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

const totpOf = (secretBase32: string, label = "agent") =>
  new TOTP({
    issuer: ISSUER,
    label,
    algorithm: "SHA1",
    digits: 6,
    period: TOTP_PERIOD_MS / 1000,
    secret: Secret.fromBase32(secretBase32),
  });

/** The otpauth:// URI an authenticator app reads (as a QR code or pasted). */
export const totpUri = (secretBase32: string, email: string): string =>
  totpOf(secretBase32, email).toString();

/** The code at an instant (tests, and nothing else, need it). */
export const totpCodeAt = (secretBase32: string, at: number): string =>
  totpOf(secretBase32).generate({ timestamp: at });

export const totpStepOf = (at: number): number => Math.floor(at / TOTP_PERIOD_MS);

/**
 * The time step a presented code belongs to, accepting one step of clock drift either way; null when
 * it matches none. The caller refuses a step not later than the last one used (no replay).
 */
export function totpStepMatching(secretBase32: string, code: string, at: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: at, window: 1 });
  return delta === null ? null : totpStepOf(at) + delta;
}
