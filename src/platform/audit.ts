import { createHmac } from "node:crypto";
import { sql } from "kysely";
import { type Dialect, type Executor, lockKey, type Tx } from "../db/database.js";
import { prepared } from "../db/prepared.js";
import { HmacSha256 } from "./hmac.js";

/**
 * Append-only, hash-chained audit log. Each subject (an account) has its own chain, so
 * writers of different accounts never wait for each other; each entry's hash covers the previous
 * one, so any edit or deletion inside a chain shows up in `verifyAuditChain`, and a deleted tail
 * shows against a saved head (`sesame audit verify --heads`). The hashes are keyed (HMAC-SHA-256
 * under a key derived from SESAME_SECRET): someone who can write the database but does not hold the
 * secret cannot recompute a forged chain.
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

/** The chain key: derived from SESAME_SECRET, used for nothing else. */
export const auditKey = (secret: string): Buffer =>
  createHmac("sha256", secret).update("sesame:audit:v1").digest();

/** Each key's padded blocks, made once (the key is the platform's, for the life of the process). */
const macs = new WeakMap<Buffer, HmacSha256>();
const macOf = (key: Buffer) => {
  const known = macs.get(key);
  if (known) return known;
  const mac = new HmacSha256(key);
  macs.set(key, mac);
  return mac;
};

const entryHash = (
  key: Buffer,
  prevHash: string,
  stream: string,
  seq: number,
  at: number,
  type: string,
  actor: string,
  detail: string,
) => macOf(key).digest(JSON.stringify([prevHash, stream, seq, at, type, actor, detail]), "hex");

/** Tries on a chain that other nodes keep appending to ahead of us: then something is wrong. */
const MAX_APPEND_TRIES = 100;

/**
 * Appends an entry to its chain. The primary key (stream, seq) keeps the chain whole: of two writers
 * that read the same head, one adds the next entry and the other adds nothing, reads the new head and
 * tries again. Writers do not queue on a lock first (on PostgreSQL that was a round trip of every
 * audited request, for chains that nobody else writes at that moment): only one that lost a race
 * takes the chain's lock, so that those that lost wait for each other instead of all retrying.
 */
export async function appendAudit(
  tx: Tx,
  dialect: Dialect,
  key: Buffer,
  at: number,
  stream: string,
  entry: AuditEntry,
) {
  const detail = JSON.stringify(entry.detail ?? {});
  for (let tries = 1; ; tries++) {
    // A statement of its own: on PostgreSQL, after a lost race, it sees the entry that won.
    const last = (await chainHead(tx, stream)).rows[0];
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS;
    const hash = entryHash(key, prevHash, stream, seq, at, entry.type, entry.actor, detail);
    const added = await insertEntry(
      tx,
      stream,
      seq,
      at,
      entry.type,
      entry.actor,
      entry.accountId ?? null,
      detail,
      prevHash,
      hash,
    );
    if (added.numAffectedRows === 1n) return;
    // Another transaction added this seq (it committed, or we waited until it did).
    if (tries >= MAX_APPEND_TRIES)
      throw new Error(`audit chain ${stream}: no free place after ${tries} tries`);
    if (tries === 1) await lockKey(tx, dialect, `audit:${stream}`);
  }
}

// The limit is written in the SQL: SQLite runs `limit ?` several times slower (10 µs against 1.5).
const chainHead = prepared((db: Executor, stream: string) =>
  db
    .selectFrom("audit_log")
    .select(["seq", "hash"])
    .where("stream", "=", stream)
    .orderBy("seq", "desc")
    .limit(sql.lit(1)),
);

const insertEntry = prepared(
  (
    db: Executor,
    stream: string,
    seq: number,
    at: number,
    type: string,
    actor: string,
    accountId: string | null,
    detail: string,
    prevHash: string,
    hash: string,
  ) =>
    db
      .insertInto("audit_log")
      .values({
        stream,
        seq,
        at,
        type,
        actor,
        account_id: accountId,
        detail,
        prev_hash: prevHash,
        hash,
      })
      // Taken: nothing is added (no error, which on PostgreSQL would end the transaction).
      // Added or not is the count of rows changed: a RETURNING clause made SQLite build and drop a
      // temporary table in every append.
      .onConflict((oc) => oc.columns(["stream", "seq"]).doNothing()),
);

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
export async function verifyAuditChain(db: Executor, stream: string, key: Buffer): Promise<number | null> {
  return (await checkChain(db, key, stream)).brokenAt;
}

export interface ChainHead {
  stream: string;
  seq: number;
  hash: string;
}

export interface ChainCheck {
  /** The last entry that verifies (seq 0 and the genesis hash for an empty chain). */
  head: ChainHead;
  /** The first entry that does not verify, or null. */
  brokenAt: number | null;
}

async function checkChain(db: Executor, key: Buffer, stream: string): Promise<ChainCheck> {
  const rows = await db
    .selectFrom("audit_log")
    .selectAll()
    .where("stream", "=", stream)
    .orderBy("seq")
    .execute();
  let head: ChainHead = { stream, seq: 0, hash: GENESIS };
  for (const [index, r] of rows.entries()) {
    const expected = entryHash(key, head.hash, r.stream, r.seq, Number(r.at), r.type, r.actor, r.detail);
    if (r.seq !== index + 1 || r.prev_hash !== head.hash || r.hash !== expected)
      return { head, brokenAt: r.seq };
    head = { stream, seq: r.seq, hash: r.hash };
  }
  return { head, brokenAt: null };
}

export type AuditProblem =
  | { stream: string; kind: "broken"; seq: number }
  | { stream: string; kind: "tail_missing"; savedSeq: number; currentSeq: number }
  | { stream: string; kind: "head_replaced"; seq: number }
  | { stream: string; kind: "chain_missing"; savedSeq: number };

/**
 * Checks every chain, and against heads saved earlier (an earlier run's output): a saved head must
 * still be in its chain, with the same hash. A chain cut back (deleted tail) or rewritten from some
 * point on cannot pass, even if what remains is internally consistent.
 */
export async function verifyAllChains(
  db: Executor,
  key: Buffer,
  savedHeads: ChainHead[] = [],
): Promise<{ heads: ChainHead[]; problems: AuditProblem[] }> {
  const streams = (
    await db.selectFrom("audit_log").select("stream").distinct().orderBy("stream").execute()
  ).map((r) => r.stream);
  const heads: ChainHead[] = [];
  const problems: AuditProblem[] = [];
  const checks = new Map<string, ChainCheck>();
  for (const stream of streams) {
    const check = await checkChain(db, key, stream);
    checks.set(stream, check);
    heads.push(check.head);
    if (check.brokenAt !== null) problems.push({ stream, kind: "broken", seq: check.brokenAt });
  }
  for (const saved of savedHeads) {
    const check = checks.get(saved.stream);
    if (!check) {
      problems.push({ stream: saved.stream, kind: "chain_missing", savedSeq: saved.seq });
      continue;
    }
    if (check.brokenAt !== null) continue;
    if (saved.seq > check.head.seq) {
      problems.push({
        stream: saved.stream,
        kind: "tail_missing",
        savedSeq: saved.seq,
        currentSeq: check.head.seq,
      });
      continue;
    }
    const entry = await db
      .selectFrom("audit_log")
      .select("hash")
      .where("stream", "=", saved.stream)
      .where("seq", "=", saved.seq)
      .executeTakeFirst();
    if (entry?.hash !== saved.hash)
      problems.push({ stream: saved.stream, kind: "head_replaced", seq: saved.seq });
  }
  return { heads, problems };
}
