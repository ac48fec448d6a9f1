/**
 * Fixtures for tests that need agents (this feature's and the desk's): an agent whose setup is done,
 * signed in or holding a personal token. Used by tests only; imports nothing from test/.
 */
import type { ManualClock } from "../platform/clock.js";
import { type Role, TOTP_PERIOD_MS, totpCodeAt } from "./model.js";
import type { AgentsService } from "./service.js";

export const AGENT_PASSWORD = "copper lantern drifts across Ghent 1974";
/** The team ids the fixtures' organisation knows. */
export const TEST_TEAMS = ["maastricht", "casablanca", "dublin", "belux", "corp"];

export interface ReadyAgent {
  id: string;
  email: string;
  password: string;
  /** Base32 TOTP secret, to compute codes with totpCodeAt(secret, clock.now()). */
  secret: string;
  role: Role;
  teams: string[];
}

/**
 * Creates an agent and completes its setup (password, first code). The clock is then moved one TOTP
 * step on, so the next sign-in has a fresh code.
 */
export async function readyAgent(
  agents: AgentsService,
  clock: ManualClock,
  input: { email: string; role?: Role; teams?: string[]; name?: string },
): Promise<ReadyAgent> {
  const { agent, setupUrl } = await agents.addAgent(
    { role: "agent", teams: ["casablanca"], ...input },
    TEST_TEAMS,
  );
  const token = new URL(setupUrl).searchParams.get("token")!;
  const { secret } = await agents.setPassword(token, AGENT_PASSWORD, AGENT_PASSWORD);
  await agents.confirmTotp(token, totpCodeAt(secret, clock.now()));
  clock.advance(TOTP_PERIOD_MS);
  return {
    id: agent.id,
    email: agent.email,
    password: AGENT_PASSWORD,
    secret,
    role: agent.role,
    teams: agent.teams,
  };
}

/** Signs the agent in (a fresh code: the clock moves one step after), returning the session cookie value. */
export async function agentSession(
  agents: AgentsService,
  clock: ManualClock,
  agent: ReadyAgent,
): Promise<string> {
  const { session } = await agents.signIn({
    email: agent.email,
    password: agent.password,
    code: totpCodeAt(agent.secret, clock.now()),
  });
  clock.advance(TOTP_PERIOD_MS);
  return session;
}
