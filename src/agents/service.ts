import { decoyPasswordHash, hashPassword, passwordStrength, verifyPassword } from "../accounts/passwords.js";
import type { Tx } from "../db/database.js";
import { appendAudit } from "../platform/audit.js";
import { clearActs, countAct, openWindowOf, sourceOf } from "../platform/caps.js";
import { inTransaction, type Platform } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { randomToken } from "../platform/secrets.js";
import {
  newTotpSecret,
  normalizeEmail,
  parseTeams,
  type Role,
  totpStepMatching,
  totpUri,
  type Viewer,
  validateNewAgent,
} from "./model.js";
import { type AgentSettings, defaultAgentSettings } from "./settings.js";
import * as store from "./store.js";

/** What the audit log records of one act by a viewer (never a password, code or token). */
export interface AgentAct {
  type: string;
  detail?: Record<string, unknown>;
}

export const agentStream = (agentId: string) => `agent:${agentId}`;
const actorOf = (viewer: Viewer) => (viewer.kind === "agent" ? `agent:${viewer.agentId}` : "service");

/**
 * An audit entry for an act of an agent (in the agent's own chain `agent:<id>`) or of an integration
 * (chain `service`), inside the use-case's transaction.
 */
export const auditAgentAct = (platform: Platform, tx: Tx, viewer: Viewer, act: AgentAct) =>
  appendAudit(
    tx,
    platform.dialect,
    platform.auditKey,
    platform.clock.now(),
    viewer.kind === "agent" ? agentStream(viewer.agentId) : "service",
    { type: act.type, actor: actorOf(viewer), detail: act.detail ?? {} },
  );

/** An agent as other features and the admin commands see it (no hash, no secret). */
export interface AgentView {
  id: string;
  email: string;
  name: string;
  role: Role;
  teams: string[];
  /** Setup done: password and authenticator app confirmed. */
  ready: boolean;
  disabled: boolean;
  createdAt: number;
}

const viewOf = (row: store.AgentRow): AgentView => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role as Role,
  teams: parseTeams(row.teams),
  ready: isReady(row),
  disabled: row.disabled_at !== null,
  createdAt: Number(row.created_at),
});

const viewerOf = (row: { id: string; email: string; name: string; role: string; teams: string }): Viewer => ({
  kind: "agent",
  agentId: row.id,
  email: row.email,
  name: row.name,
  role: row.role as Role,
  teams: parseTeams(row.teams),
});

const isReady = (row: store.AgentRow) =>
  row.password_hash !== null && row.totp_secret !== null && row.setup_token_hash === null;

// A fixed secret that no agent has: unknown, throttled and unready agents cost the same code check.
const DECOY_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
// Last-seen and last-used are written at most this often: a busy console is not a write per request.
const TOUCH_EVERY_MS = 60_000;
/** Sessions and tokens are deleted this long after they ended or were revoked. */
export const AGENT_CREDENTIAL_RETENTION_MS = 30 * 24 * 3_600_000;

export interface SetupStep {
  email: string;
  name: string;
}

export type SigninFailure =
  | "unknown"
  | "disabled"
  | "not_set_up"
  | "throttled"
  | "password"
  | "code"
  | "code_reused";

export class AgentsService {
  constructor(
    private readonly platform: Platform,
    readonly settings: AgentSettings = defaultAgentSettings,
  ) {}

  private now() {
    return this.platform.clock.now();
  }

  private hmac(purpose: "agent-session" | "agent-token" | "agent-setup", token: string) {
    return this.platform.secrets.hmac(`${purpose}:${token}`);
  }

  private setupUrl(token: string) {
    return `${this.platform.config.publicUrl}/agent/setup?token=${encodeURIComponent(token)}`;
  }

  /**
   * `sesame agent add`: a new agent with a one-time setup link (valid settings.setupLinkMs). Teams
   * are checked against `knownTeams`, the organisation's team ids.
   */
  async addAgent(
    input: { email: string; name?: string; role: string; teams: string[] },
    knownTeams: readonly string[],
  ): Promise<{ agent: AgentView; setupUrl: string }> {
    const agent = validateNewAgent(input, knownTeams);
    const token = randomToken(32);
    const now = this.now();
    const row: store.AgentRow = {
      id: newId(),
      email: agent.email,
      name: agent.name,
      role: agent.role,
      teams: JSON.stringify(agent.teams),
      password_hash: null,
      totp_secret: null,
      totp_last_step: null,
      setup_token_hash: this.hmac("agent-setup", token),
      setup_expires_at: now + this.settings.setupLinkMs,
      created_at: now,
      disabled_at: null,
    };
    await inTransaction(this.platform, async (tx) => {
      if (await store.agentByEmail(tx, agent.email)) throw new AppError("ERR_AGENT_EXISTS");
      await store.insertAgent(tx, row);
      await auditAgentAct(this.platform, tx, viewerOf(row), {
        type: "agent.added",
        detail: { role: agent.role, teams: agent.teams, by: "cli" },
      });
    });
    return { agent: viewOf(row), setupUrl: this.setupUrl(token) };
  }

  /**
   * A new setup link for an existing agent (a lost phone, a forgotten password): the old password,
   * authenticator, sessions and tokens stop working at once.
   */
  async resetAgent(email: string): Promise<{ agent: AgentView; setupUrl: string }> {
    const token = randomToken(32);
    const now = this.now();
    const row = await inTransaction(this.platform, async (tx) => {
      const row = await store.agentByEmail(tx, normalizeEmail(email));
      if (!row) throw new AppError("ERR_AGENT_NOT_FOUND");
      const changes = {
        password_hash: null,
        totp_secret: null,
        totp_last_step: null,
        setup_token_hash: this.hmac("agent-setup", token),
        setup_expires_at: now + this.settings.setupLinkMs,
      };
      await store.updateAgent(tx, row.id, changes);
      await store.revokeSessionsOf(tx, row.id, now);
      await store.revokeTokensOf(tx, row.id, now);
      await auditAgentAct(this.platform, tx, viewerOf(row), { type: "agent.reset", detail: { by: "cli" } });
      return { ...row, ...changes };
    });
    return { agent: viewOf(row), setupUrl: this.setupUrl(token) };
  }

  /** `sesame agent token`: a new personal API token, shown once, stored as HMAC only. */
  async issueToken(email: string): Promise<string> {
    const token = `sat_${randomToken(32)}`;
    await inTransaction(this.platform, async (tx) => {
      const row = await store.agentByEmail(tx, normalizeEmail(email));
      if (!row || row.disabled_at !== null) throw new AppError("ERR_AGENT_NOT_FOUND");
      await store.insertToken(tx, {
        token_hash: this.hmac("agent-token", token),
        agent_id: row.id,
        created_at: this.now(),
      });
      await auditAgentAct(this.platform, tx, viewerOf(row), {
        type: "agent.token_issued",
        detail: { by: "cli" },
      });
    });
    return token;
  }

  /** Revokes every personal token of an agent; returns how many were live. */
  async revokeTokens(email: string): Promise<number> {
    return inTransaction(this.platform, async (tx) => {
      const row = await store.agentByEmail(tx, normalizeEmail(email));
      if (!row) throw new AppError("ERR_AGENT_NOT_FOUND");
      const result = await store.revokeTokensOf(tx, row.id, this.now());
      const count = Number(result.numUpdatedRows);
      await auditAgentAct(this.platform, tx, viewerOf(row), {
        type: "agent.tokens_revoked",
        detail: { count, by: "cli" },
      });
      return count;
    });
  }

  /** Disables an agent: sign-in refused, sessions and tokens revoked at once. */
  async disableAgent(email: string): Promise<void> {
    const now = this.now();
    await inTransaction(this.platform, async (tx) => {
      const row = await store.agentByEmail(tx, normalizeEmail(email));
      if (!row) throw new AppError("ERR_AGENT_NOT_FOUND");
      if (row.disabled_at === null) await store.updateAgent(tx, row.id, { disabled_at: now });
      await store.revokeSessionsOf(tx, row.id, now);
      await store.revokeTokensOf(tx, row.id, now);
      await auditAgentAct(this.platform, tx, viewerOf(row), {
        type: "agent.disabled",
        detail: { by: "cli" },
      });
    });
  }

  async agentByEmail(email: string): Promise<AgentView | null> {
    const row = await store.agentByEmail(this.platform.db, normalizeEmail(email));
    return row ? viewOf(row) : null;
  }

  /** Every agent, for supervisors and admins (reassigning); the read is audited. */
  async listAgents(viewer: Viewer): Promise<AgentView[]> {
    return inTransaction(this.platform, async (tx) => {
      const rows = await store.listAgents(tx);
      await auditAgentAct(this.platform, tx, viewer, {
        type: "agents.listed",
        detail: { count: rows.length },
      });
      return rows.map(viewOf);
    });
  }

  // ---- setup link -------------------------------------------------------------------------------

  private async liveSetup(executor: Platform["db"] | Tx, token: string): Promise<store.AgentRow> {
    const row =
      token.length > 0 && token.length <= 200
        ? await store.agentBySetupToken(executor, this.hmac("agent-setup", token))
        : undefined;
    if (
      !row ||
      row.disabled_at !== null ||
      row.setup_expires_at === null ||
      Number(row.setup_expires_at) <= this.now()
    )
      throw new AppError("ERR_AGENT_SETUP_LINK");
    return row;
  }

  /** Whom a setup link is for, if it still works (it changes nothing). */
  async setupOf(token: string): Promise<SetupStep> {
    const row = await this.liveSetup(this.platform.db, token);
    return { email: row.email, name: row.name };
  }

  /**
   * Setup, step 1: the agent's password; answers a new TOTP secret for the authenticator app. The
   * agent cannot sign in before step 2 confirmed a first code.
   */
  async setPassword(
    token: string,
    password: string,
    confirmation: string,
  ): Promise<{ secret: string; uri: string; email: string }> {
    const row = await this.liveSetup(this.platform.db, token);
    if (password === "") throw new AppError("ERR_PASSWORD_EMPTY");
    if (password !== confirmation) throw new AppError("ERR_PASSWORD_MISMATCH");
    if (!(await passwordStrength(password, [row.email, row.name, ...row.email.split(/[@.]/)])).strong)
      throw new AppError("ERR_PASSWORD_WEAK");
    const passwordHash = await hashPassword(password);
    const secret = newTotpSecret();
    await inTransaction(this.platform, async (tx) => {
      const current = await this.liveSetup(tx, token);
      await store.updateAgent(tx, current.id, {
        password_hash: passwordHash,
        totp_secret: this.platform.secrets.seal(secret),
        totp_last_step: null,
      });
      await auditAgentAct(this.platform, tx, viewerOf(current), { type: "agent.setup_password" });
    });
    return { secret, uri: totpUri(secret, row.email), email: row.email };
  }

  /** The key saved at step 1, shown again after a wrong first code. */
  async pendingTotp(token: string): Promise<{ secret: string; uri: string }> {
    const row = await this.liveSetup(this.platform.db, token);
    if (row.totp_secret === null) throw new AppError("ERR_AGENT_SETUP_LINK");
    const secret = this.platform.secrets.unseal(row.totp_secret);
    return { secret, uri: totpUri(secret, row.email) };
  }

  /** Setup, step 2: the first code of the authenticator app; the link is used up. */
  async confirmTotp(token: string, code: string): Promise<void> {
    await inTransaction(this.platform, async (tx) => {
      const row = await this.liveSetup(tx, token);
      if (row.password_hash === null || row.totp_secret === null) throw new AppError("ERR_AGENT_SETUP_LINK");
      const step = totpStepMatching(this.platform.secrets.unseal(row.totp_secret), code.trim(), this.now());
      if (step === null || !(await store.takeTotpStep(tx, row.id, step)))
        throw new AppError("ERR_AGENT_CODE_INVALID");
      await store.updateAgent(tx, row.id, { setup_token_hash: null, setup_expires_at: null });
      await auditAgentAct(this.platform, tx, viewerOf(row), { type: "agent.setup_done" });
    });
  }

  // ---- sign-in and sessions ---------------------------------------------------------------------

  /**
   * Password AND the current TOTP code, in one step. Every failure gives the same coded error after
   * the same work (one argon2 verification, one code check), whatever failed; after
   * settings.maxFailedSignins failures from one source (IP, or IPv6 /64) the sign-in of that address
   * from that source pauses for settings.signinLockMs, during which the password is not even checked.
   * Counted per source, so a stranger's noise never locks the agent out from their own desk.
   */
  async signIn(input: {
    email: string;
    password: string;
    code: string;
    /** The client's address, for the audit log. */
    ip?: string;
  }): Promise<{ session: string; viewer: Viewer }> {
    const email = normalizeEmail(input.email).slice(0, 254);
    const now = this.now();
    const throttleKey = `agent-signin:${this.platform.secrets.hmac(`agent-signin:${email}|${sourceOf(input.ip ?? "")}`)}`;
    const failures = await openWindowOf(this.platform.db, throttleKey, now, this.settings.signinLockMs);
    const row = await store.agentByEmail(this.platform.db, email);
    const failure: SigninFailure | null = !row
      ? "unknown"
      : row.disabled_at !== null
        ? "disabled"
        : !isReady(row)
          ? "not_set_up"
          : (failures?.count ?? 0) >= this.settings.maxFailedSignins
            ? "throttled"
            : null;
    const usable = failure === null ? row! : null;
    const passwordOk = await verifyPassword(
      usable?.password_hash ?? (await decoyPasswordHash()),
      input.password,
    );
    const secret = usable ? this.platform.secrets.unseal(usable.totp_secret!) : DECOY_TOTP_SECRET;
    const step = totpStepMatching(secret, input.code.trim(), now);

    const source = input.ip ? { ip: input.ip } : {};
    let throttledUntil: number | null = null;
    const outcome = await inTransaction(this.platform, async (tx) => {
      let reason: SigninFailure | null =
        failure ?? (!passwordOk ? "password" : step === null ? "code" : null);
      if (usable && reason === null && !(await store.takeTotpStep(tx, usable.id, step!)))
        reason = "code_reused";
      if (usable && reason === null) {
        const session = randomToken(32);
        await clearActs(tx, throttleKey);
        await store.insertSession(tx, {
          id_hash: this.hmac("agent-session", session),
          agent_id: usable.id,
          created_at: now,
          expires_at: now + this.settings.sessionAbsoluteMs,
        });
        const viewer = viewerOf(usable);
        await auditAgentAct(this.platform, tx, viewer, { type: "agent.signin", detail: source });
        return { session, viewer };
      }
      if (reason !== "throttled" && reason !== "disabled") {
        await countAct(tx, throttleKey, now, this.settings.signinLockMs, null);
        const counted = await openWindowOf(tx, throttleKey, now, this.settings.signinLockMs);
        if ((counted?.count ?? 0) >= this.settings.maxFailedSignins)
          throttledUntil = (counted?.start ?? now) + this.settings.signinLockMs;
      }
      if (!row) {
        // Probing of unknown addresses is recorded too, in a chain keyed by the address's HMAC.
        await appendAudit(
          tx,
          this.platform.dialect,
          this.platform.auditKey,
          now,
          `agent-address:${this.platform.secrets.hmac(`agent-address:${email}`)}`,
          {
            type: "agent.signin_failed",
            actor: "anonymous",
            detail: { reason, ...source },
          },
        );
        return null;
      }
      const detail: Record<string, unknown> = {
        reason,
        ...source,
        ...(throttledUntil !== null ? { throttledUntil } : {}),
      };
      await auditAgentAct(this.platform, tx, viewerOf(row), { type: "agent.signin_failed", detail });
      return null;
    });
    if (!outcome) throw new AppError("ERR_AGENT_SIGNIN_FAILED");
    return outcome;
  }

  /** The agent behind a session cookie, or null when it is unknown, revoked, idle too long or over. */
  async viewerFromSession(session: string | undefined | null): Promise<Viewer | null> {
    if (!session || session.length > 200) return null;
    const idHash = this.hmac("agent-session", session);
    const row = await store.sessionWithAgent(this.platform.db, idHash);
    const now = this.now();
    if (
      !row ||
      row.revoked_at !== null ||
      row.disabled_at !== null ||
      Number(row.expires_at) <= now ||
      Number(row.last_seen_at) + this.settings.sessionIdleMs <= now
    )
      return null;
    if (now - Number(row.last_seen_at) >= TOUCH_EVERY_MS)
      await store.touchSession(this.platform.db, idHash, now);
    return viewerOf(row);
  }

  /** The agent behind a personal API token, or null when it is unknown or revoked. */
  async viewerFromBearer(token: string | undefined | null): Promise<Viewer | null> {
    if (!token || token.length > 200) return null;
    const tokenHash = this.hmac("agent-token", token);
    const row = await store.tokenWithAgent(this.platform.db, tokenHash);
    if (!row || row.revoked_at !== null || row.disabled_at !== null) return null;
    const now = this.now();
    if (row.last_used_at === null || now - Number(row.last_used_at) >= TOUCH_EVERY_MS)
      await store.touchToken(this.platform.db, tokenHash, now);
    return viewerOf(row);
  }

  /** Ends a session (sign-out); an unknown or ended session is no fault. */
  async signOut(session: string | undefined | null): Promise<void> {
    if (!session || session.length > 200) return;
    const idHash = this.hmac("agent-session", session);
    await inTransaction(this.platform, async (tx) => {
      const row = await store.sessionWithAgent(tx, idHash);
      if (!row) return;
      const result = await store.revokeSession(tx, idHash, this.now());
      if (Number(result.numUpdatedRows) === 1)
        await auditAgentAct(this.platform, tx, viewerOf(row), { type: "agent.signout" });
    });
  }

  /**
   * Retention (run by the timers' housekeeping): sessions and tokens are deleted
   * AGENT_CREDENTIAL_RETENTION_MS after they ended or were revoked. Agents themselves are kept
   * (disabled, not deleted): the audit log names them.
   */
  async purgeEnded(tx?: Tx): Promise<{ sessions: number; tokens: number }> {
    const before = this.now() - AGENT_CREDENTIAL_RETENTION_MS;
    return tx
      ? store.deleteEnded(tx, before)
      : inTransaction(this.platform, (t) => store.deleteEnded(t, before));
  }
}
