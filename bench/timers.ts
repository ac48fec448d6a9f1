/**
 * Benchmark of the durable timers: how late timers fire when many come due at once, with two
 * Sesame processes on one PostgreSQL database. `npx tsx bench/timers.ts`, or `benchTimers()` from
 * bench/run.ts.
 *
 * Makes a throw-away schema, inserts BENCH_TIMERS (default 100,000) timers of kind "probe" (whose
 * handler writes one row per firing into timer_firings, in the firing transaction), makes them all
 * due at one instant, and starts two processes (tsx src/timers/firing-process.ts) that fire until
 * none is left. Prints the seconds until all had fired, fires/s, duplicates (timers fired more than
 * once: must be 0), the firings per process, and the maximum lateness. Aim: all within 10 s, none twice.
 *
 * Settings (environment):
 *   BENCH_DATABASE_URL  PostgreSQL (default SESAME_TEST_DATABASE_URL, else postgres://root@127.0.0.1:5432/test)
 *   BENCH_TIMERS        timers due at once (default 100000)
 *   BENCH_PROCESSES     firing processes (default 2)
 *   BENCH_TIMER_BATCH   timers claimed and fired per transaction (default 500, as SESAME_TIMER_BATCH)
 *   BENCH_TIMER_HANDLER "batch" (default): the probe handler registered with onBatch writes one row
 *                       per firing in one insert per batch; "row": with on(), one insert per timer
 *                       (then the database round trip per timer is most of the cost)
 *   BENCH_JSON          write the results as JSON to this path
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { migrateToLatest, openDatabase } from "../src/db/database.js";
import { newId } from "../src/platform/ids.js";
import {
  createFiringTable,
  type FiringSummary,
  firingSummary,
  insertProbeTimers,
  startFiringProcess,
} from "../src/timers/firing-processes.js";

export interface TimersBenchResult {
  timers: number;
  processes: number;
  batch: number;
  handler: "row" | "batch";
  /** From the instant they all came due to the last firing. */
  secondsToFireAll: number;
  firesPerSecond: number;
  duplicates: number;
  missing: number;
  maxLatenessMs: number;
  byProcess: number[];
}

const wholeNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new Error(`${name} must be a whole number >= 1`);
  return Number(raw);
};

export async function benchTimers(
  options: {
    url?: string;
    timers?: number;
    processes?: number;
    batch?: number;
    handler?: "row" | "batch";
  } = {},
): Promise<TimersBenchResult> {
  const url =
    options.url ??
    process.env.BENCH_DATABASE_URL ??
    process.env.SESAME_TEST_DATABASE_URL ??
    "postgres://root@127.0.0.1:5432/test";
  const count = options.timers ?? wholeNumber("BENCH_TIMERS", 100_000);
  const processes = options.processes ?? wholeNumber("BENCH_PROCESSES", 2);
  const batch = options.batch ?? wholeNumber("BENCH_TIMER_BATCH", 500);
  const handler = options.handler ?? (process.env.BENCH_TIMER_HANDLER === "row" ? "row" : "batch");

  const schema = `bench_timers_${newId().replace(/-/g, "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const database = openDatabase({ kind: "postgres", url }, { searchPath: schema, poolSize: 2 });
  const children: Array<ReturnType<typeof startFiringProcess>> = [];
  try {
    await migrateToLatest(database.db, schema);
    await createFiringTable(database.db);
    // Inserted far in the future, then all made due at one instant just ahead of the start.
    await insertProbeTimers(database.db, count, Number.MAX_SAFE_INTEGER, Date.now());
    await admin.query(`analyze ${schema}.timers`);
    for (let i = 0; i < processes; i++)
      children.push(startFiringProcess({ url, schema, mode: "fire", batch, handler }));
    await Promise.all(children.map((child) => child.ready));
    const dueAt = Date.now() + 2_000;
    await database.db.updateTable("timers").set({ due_at: dueAt }).execute();
    for (const child of children) child.go();
    const ends = await Promise.all(children.map((child) => child.done));
    for (const end of ends)
      if (end.code !== 0) throw new Error(`a firing process failed (${end.code}): ${end.stderr}`);

    const summary: FiringSummary = await firingSummary(database.db);
    const { rows } = await admin.query<{ last: string }>(
      `select max(fired_at) as last from ${schema}.timer_firings`,
    );
    const seconds = Math.max(0, Number(rows[0]?.last ?? dueAt) - dueAt) / 1000;
    return {
      timers: count,
      processes,
      batch,
      handler,
      secondsToFireAll: seconds,
      firesPerSecond: seconds > 0 ? Math.round(summary.total / seconds) : summary.total,
      duplicates: summary.duplicates,
      missing: count - summary.distinct,
      maxLatenessMs: summary.maxLatenessMs,
      byProcess: Object.values(summary.byPid),
    };
  } finally {
    for (const child of children) child.child.kill();
    await database.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

export function printTimersBench(result: TimersBenchResult): void {
  console.log(
    [
      `timers: ${result.timers.toLocaleString("en")} due at once, ${result.processes} processes, batch ${result.batch}, ${result.handler === "batch" ? "one insert per batch (onBatch)" : "one insert per timer (on)"}`,
      `  all fired after   ${result.secondsToFireAll.toFixed(2)} s (aim: 10 s)`,
      `  fires/s           ${result.firesPerSecond.toLocaleString("en")}`,
      `  duplicates        ${result.duplicates}`,
      `  missing           ${result.missing}`,
      `  max lateness      ${result.maxLatenessMs} ms`,
      `  per process       ${result.byProcess.join(" / ")}`,
    ].join("\n"),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await benchTimers();
  printTimersBench(result);
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(result, null, 2)}\n`);
  if (result.duplicates > 0 || result.missing > 0) process.exitCode = 1;
}
