/** The agents' tables as stored (instants epoch-ms, JSON as text). */
export interface AgentsTables {
  agents: AgentsTable;
  agent_sessions: AgentSessionsTable;
  agent_tokens: AgentTokensTable;
}

export interface AgentsTable {
  id: string;
  /** Lower-case, unique. */
  email: string;
  name: string;
  /** "agent" | "supervisor" | "admin" */
  role: string;
  /** JSON array of team ids from the organisation config. */
  teams: string;
  /** argon2id; null until the setup link was used. */
  password_hash: string | null;
  /** The TOTP secret (base32), sealed with platform.secrets.seal; null until setup. */
  totp_secret: string | null;
  /** The last TOTP time step accepted: a code is never accepted twice. */
  totp_last_step: number | null;
  /** HMAC of the one-time setup token; null once setup is done. */
  setup_token_hash: string | null;
  setup_expires_at: number | null;
  created_at: number;
  disabled_at: number | null;
}

export interface AgentSessionsTable {
  /** HMAC of the session id held in the cookie. */
  id_hash: string;
  agent_id: string;
  created_at: number;
  last_seen_at: number;
  /** Absolute end (created_at + the absolute timeout). */
  expires_at: number;
  revoked_at: number | null;
}

export interface AgentTokensTable {
  /** HMAC of the personal API token. */
  token_hash: string;
  agent_id: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}
