import type { Executor, Tx } from "../db/database.js";
import type { AgentsTable } from "./schema.js";

/** The agents' SQL, and nothing else. */
export type AgentRow = AgentsTable;

export const agentByEmail = (db: Executor, email: string) =>
  db.selectFrom("agents").selectAll().where("email", "=", email).executeTakeFirst();

export const agentById = (db: Executor, id: string) =>
  db.selectFrom("agents").selectAll().where("id", "=", id).executeTakeFirst();

export const agentBySetupToken = (db: Executor, tokenHash: string) =>
  db.selectFrom("agents").selectAll().where("setup_token_hash", "=", tokenHash).executeTakeFirst();

export const insertAgent = (tx: Tx, row: AgentRow) => tx.insertInto("agents").values(row).execute();

export const listAgents = (db: Executor) =>
  db.selectFrom("agents").selectAll().orderBy("email").limit(10_000).execute();

export const updateAgent = (tx: Tx, id: string, changes: Partial<AgentRow>) =>
  tx.updateTable("agents").set(changes).where("id", "=", id).execute();

/**
 * Takes a TOTP step if it is later than the last one used: one statement, so two nodes presenting
 * the same code at once cannot both succeed. True when this call took it.
 */
export async function takeTotpStep(tx: Tx, id: string, step: number): Promise<boolean> {
  const result = await tx
    .updateTable("agents")
    .set({ totp_last_step: step })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export const insertSession = (
  tx: Tx,
  row: { id_hash: string; agent_id: string; created_at: number; expires_at: number },
) =>
  tx
    .insertInto("agent_sessions")
    .values({ ...row, last_seen_at: row.created_at, revoked_at: null })
    .execute();

/** What a session or token lookup reads of its agent: enough to build the viewer. */
const VIEWER_COLUMNS = ["a.id", "a.email", "a.name", "a.role", "a.teams", "a.disabled_at"] as const;

export const sessionWithAgent = (db: Executor, idHash: string) =>
  db
    .selectFrom("agent_sessions as s")
    .innerJoin("agents as a", "a.id", "s.agent_id")
    .select(["s.id_hash", "s.last_seen_at", "s.expires_at", "s.revoked_at", ...VIEWER_COLUMNS])
    .where("s.id_hash", "=", idHash)
    .executeTakeFirst();

export const touchSession = (db: Executor, idHash: string, at: number) =>
  db.updateTable("agent_sessions").set({ last_seen_at: at }).where("id_hash", "=", idHash).execute();

export const revokeSession = (tx: Tx, idHash: string, at: number) =>
  tx
    .updateTable("agent_sessions")
    .set({ revoked_at: at })
    .where("id_hash", "=", idHash)
    .where("revoked_at", "is", null)
    .executeTakeFirst();

export const revokeSessionsOf = (tx: Tx, agentId: string, at: number) =>
  tx
    .updateTable("agent_sessions")
    .set({ revoked_at: at })
    .where("agent_id", "=", agentId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();

export const insertToken = (tx: Tx, row: { token_hash: string; agent_id: string; created_at: number }) =>
  tx
    .insertInto("agent_tokens")
    .values({ ...row, last_used_at: null, revoked_at: null })
    .execute();

export const tokenWithAgent = (db: Executor, tokenHash: string) =>
  db
    .selectFrom("agent_tokens as t")
    .innerJoin("agents as a", "a.id", "t.agent_id")
    .select(["t.token_hash", "t.last_used_at", "t.revoked_at", ...VIEWER_COLUMNS])
    .where("t.token_hash", "=", tokenHash)
    .executeTakeFirst();

export const touchToken = (db: Executor, tokenHash: string, at: number) =>
  db.updateTable("agent_tokens").set({ last_used_at: at }).where("token_hash", "=", tokenHash).execute();

export const revokeTokensOf = (tx: Tx, agentId: string, at: number) =>
  tx
    .updateTable("agent_tokens")
    .set({ revoked_at: at })
    .where("agent_id", "=", agentId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();

/** Retention: sessions ended before `before`, tokens revoked before `before`. */
export async function deleteEnded(tx: Tx, before: number): Promise<{ sessions: number; tokens: number }> {
  const sessions = await tx
    .deleteFrom("agent_sessions")
    .where((eb) => eb.or([eb("expires_at", "<", before), eb("revoked_at", "<", before)]))
    .executeTakeFirst();
  const tokens = await tx.deleteFrom("agent_tokens").where("revoked_at", "<", before).executeTakeFirst();
  return { sessions: Number(sessions.numDeletedRows), tokens: Number(tokens.numDeletedRows) };
}
