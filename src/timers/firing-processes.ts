/**
 * Drives firing-process.ts children (the multi-process test and bench/timers.ts): a table that
 * records each firing, many "probe" timers inserted fast, and the children themselves.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { newId } from "../platform/ids.js";

const SCRIPT = fileURLToPath(new URL("./firing-process.ts", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));

/** One row per firing; deliberately no unique key, so a second firing shows up as a duplicate. */
export async function createFiringTable(db: Db): Promise<void> {
  await sql`create table timer_firings (subject text not null, due_at bigint not null, fired_at bigint not null, pid integer not null)`.execute(
    db,
  );
}

/** `count` probe timers, subjects p0, p1, ..., due at `dueAt`, inserted in chunks. */
export async function insertProbeTimers(db: Db, count: number, dueAt: number, now: number): Promise<void> {
  const chunk = 5_000;
  for (let start = 0; start < count; start += chunk) {
    const rows = Array.from({ length: Math.min(chunk, count - start) }, (_, i) => ({
      id: newId(),
      kind: "probe",
      subject: `p${start + i}`,
      due_at: dueAt,
      lease_until: null,
      attempts: 0,
      payload: null,
      created_at: now,
    }));
    await db.insertInto("timers").values(rows).execute();
  }
}

export interface FiringSummary {
  total: number;
  distinct: number;
  duplicates: number;
  byPid: Record<string, number>;
  maxLatenessMs: number;
}

export async function firingSummary(db: Db): Promise<FiringSummary> {
  const { rows } = await sql<{
    total: string;
    distinct: string;
    late: string | null;
  }>`select count(*) as total, count(distinct subject) as distinct, max(fired_at - due_at) as late from timer_firings`.execute(
    db,
  );
  const perPid = await sql<{
    pid: number;
    n: string;
  }>`select pid, count(*) as n from timer_firings group by pid`.execute(db);
  const row = rows[0]!;
  return {
    total: Number(row.total),
    distinct: Number(row.distinct),
    duplicates: Number(row.total) - Number(row.distinct),
    byPid: Object.fromEntries(perPid.rows.map((r) => [String(r.pid), Number(r.n)])),
    maxLatenessMs: Number(row.late ?? 0),
  };
}

export interface FiringProcess {
  child: ChildProcess;
  /** Resolves once it is connected and waits for go(). */
  ready: Promise<void>;
  go(): void;
  /** Its exit code and the JSON lines it printed. */
  done: Promise<{ code: number | null; output: unknown[]; stderr: string }>;
}

export function startFiringProcess(opts: {
  url: string;
  schema: string;
  mode: "fire" | "die-after-claim";
  batch?: number;
  leaseMs?: number;
  handler?: "row" | "batch";
}): FiringProcess {
  const child = spawn(TSX, [SCRIPT], {
    env: {
      ...process.env,
      FIRING_DATABASE_URL: opts.url,
      FIRING_SCHEMA: opts.schema,
      FIRING_MODE: opts.mode,
      FIRING_BATCH: String(opts.batch ?? 500),
      FIRING_LEASE_MS: String(opts.leaseMs ?? 60_000),
      FIRING_HANDLER: opts.handler ?? "row",
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const output: unknown[] = [];
  let stderr = "";
  child.stderr!.on("data", (data) => {
    stderr += data.toString();
  });
  let markReady: () => void = () => {};
  let failReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line === "ready") markReady();
    else if (line.startsWith("{")) output.push(JSON.parse(line));
  });
  const done = new Promise<{ code: number | null; output: unknown[]; stderr: string }>((resolve) =>
    child.on("exit", (code) => {
      failReady(new Error(`firing process exited (${code}) before it was ready: ${stderr}`));
      resolve({ code, output, stderr });
    }),
  );
  return { child, ready, go: () => child.stdin!.write("go\n"), done };
}

/** The PostgreSQL schema a handle works in (its search_path). */
export async function currentSchema(db: Db): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]!.schema;
}
