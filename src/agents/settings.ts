import { ConfigError } from "../config.js";
import { DAY, HOUR, MINUTE } from "../platform/clock.js";

/** Settings of the agents' sign-in (environment, with defaults); see docs/desk/agents.md. */
export interface AgentSettings {
  /** A session unused for this long ends (SESAME_AGENT_SESSION_IDLE_MS, 8 h). */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, used or not (SESAME_AGENT_SESSION_MAX_MS, 12 h). */
  sessionAbsoluteMs: number;
  /** How long a setup link works (SESAME_AGENT_SETUP_LINK_MS, 72 h). */
  setupLinkMs: number;
  /** Failed sign-ins in a row that pause an agent's sign-in (SESAME_AGENT_SIGNIN_FAILURES, 5)... */
  maxFailedSignins: number;
  /** ...for this long (SESAME_AGENT_SIGNIN_LOCK_MS, 15 min). */
  signinLockMs: number;
}

export const defaultAgentSettings: AgentSettings = {
  sessionIdleMs: 8 * HOUR,
  sessionAbsoluteMs: 12 * HOUR,
  setupLinkMs: 3 * DAY,
  maxFailedSignins: 5,
  signinLockMs: 15 * MINUTE,
};

const integer = (env: Record<string, string | undefined>, name: string, fallback: number, min: number) => {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min)
    throw new ConfigError(`${name} must be a whole number >= ${min}, got "${raw}"`);
  return Number(raw);
};

export function agentSettings(env: Record<string, string | undefined>): AgentSettings {
  const settings: AgentSettings = {
    sessionIdleMs: integer(env, "SESAME_AGENT_SESSION_IDLE_MS", defaultAgentSettings.sessionIdleMs, MINUTE),
    sessionAbsoluteMs: integer(
      env,
      "SESAME_AGENT_SESSION_MAX_MS",
      defaultAgentSettings.sessionAbsoluteMs,
      MINUTE,
    ),
    setupLinkMs: integer(env, "SESAME_AGENT_SETUP_LINK_MS", defaultAgentSettings.setupLinkMs, MINUTE),
    maxFailedSignins: integer(env, "SESAME_AGENT_SIGNIN_FAILURES", defaultAgentSettings.maxFailedSignins, 1),
    signinLockMs: integer(env, "SESAME_AGENT_SIGNIN_LOCK_MS", defaultAgentSettings.signinLockMs, 1000),
  };
  if (settings.sessionIdleMs > settings.sessionAbsoluteMs)
    throw new ConfigError("SESAME_AGENT_SESSION_IDLE_MS must not exceed SESAME_AGENT_SESSION_MAX_MS");
  return settings;
}
