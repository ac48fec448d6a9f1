import { type Dialect, type Executor, lockKey, type Tx } from "../db/database.js";
import { sha256 } from "./secrets.js";

/**
 * Append-only, hash-chained audit log. Each subject (an account) has its own chain, so
 * writers of different accounts never wait for each other; each entry's hash covers the previous
 * one, so any edit or deletion inside a chain shows up in `verifyAuditChain`.
 */
export interface AuditEntry {
  type: string;
  actor: string;
  accountId?: string | null;
  /** Safe facts only: masked destinations, reasons, counts; never a code, token or password. */
  detail?: Record<string, unknown>;
}

export interface AuditEvent {
  at: number;
  type: string;
  actor: string;
  detail: Record<string, unknown>;
}

const GENESIS = "0".repeat(64);

export const accountStream = (accountId: string) => `account:${accountId}`;

const entryHash = (
  prevHash: string,
  stream: string,
  seq: number,
  at: number,
  type: string,
  actor: string,
  detail: string,
) => sha256(JSON.stringify([prevHash, stream, seq, at, type, actor, detail]));

export async function appendAudit(tx: Tx, dialect: Dialect, at: number, stream: string, entry: AuditEntry) {
  await lockKey(tx, dialect, `audit:${stream}`);
  const last = await tx
    .selectFrom("audit_log")
    .select(["seq", "hash"])
    .where("stream", "=", stream)
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  const seq = (last?.seq ?? 0) + 1;
  const prevHash = last?.hash ?? GENESIS;
  const detail = JSON.stringify(entry.detail ?? {});
  await tx
    .insertInto("audit_log")
    .values({
      stream,
      seq,
      at,
      type: entry.type,
      actor: entry.actor,
      account_id: entry.accountId ?? null,
      detail,
      prev_hash: prevHash,
      hash: entryHash(prevHash, stream, seq, at, entry.type, entry.actor, detail),
    })
    .execute();
}

/** An account's entries, oldest first: its own chain, read through the primary key. */
export async function auditOfAccount(db: Executor, accountId: string): Promise<AuditEvent[]> {
  const rows = await db
    .selectFrom("audit_log")
    .select(["at", "type", "actor", "detail"])
    .where("stream", "=", accountStream(accountId))
    .orderBy("seq", "asc")
    .execute();
  return rows.map((r) => ({ at: Number(r.at), type: r.type, actor: r.actor, detail: JSON.parse(r.detail) }));
}

/** Recomputes a chain; returns the first broken sequence number, or null when it is intact. */
export async function verifyAuditChain(db: Executor, stream: string): Promise<number | null> {
  const rows = await db
    .selectFrom("audit_log")
    .selectAll()
    .where("stream", "=", stream)
    .orderBy("seq")
    .execute();
  let prev = GENESIS;
  for (const [index, r] of rows.entries()) {
    const expected = entryHash(prev, r.stream, r.seq, Number(r.at), r.type, r.actor, r.detail);
    if (r.seq !== index + 1 || r.prev_hash !== prev || r.hash !== expected) return r.seq;
    prev = r.hash;
  }
  return null;
}
