import type { Kysely } from "kysely";

/**
 * Agents of the support desk: who they are (role, teams), how they sign in (argon2id password and a
 * sealed TOTP secret), their sessions and personal API tokens (both stored as HMAC only).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("agents")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("email", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("teams", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("password_hash", "text")
    .addColumn("totp_secret", "text")
    .addColumn("totp_last_step", "bigint")
    .addColumn("setup_token_hash", "text", (c) => c.unique())
    .addColumn("setup_expires_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("disabled_at", "bigint")
    .execute();

  await db.schema
    .createTable("agent_sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("agent_id", "text", (c) => c.notNull().references("agents.id").onDelete("cascade"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_seen_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema.createIndex("agent_sessions_agent").on("agent_sessions").column("agent_id").execute();
  // Retention: sessions are deleted some time after they ended (see AgentsService.purge).
  await db.schema.createIndex("agent_sessions_expires").on("agent_sessions").column("expires_at").execute();

  await db.schema
    .createTable("agent_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("agent_id", "text", (c) => c.notNull().references("agents.id").onDelete("cascade"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema.createIndex("agent_tokens_agent").on("agent_tokens").column("agent_id").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("agent_tokens").ifExists().execute();
  await db.schema.dropTable("agent_sessions").ifExists().execute();
  await db.schema.dropTable("agents").ifExists().execute();
}
