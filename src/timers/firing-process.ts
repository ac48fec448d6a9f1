/**
 * A separate Sesame-like process that fires timers of kind "probe" on a shared PostgreSQL schema:
 * the multi-process test (timers.process.test.ts) and the bench (bench/timers.ts) start two of these.
 * Each firing writes a row to `timer_firings` (made by the parent) in the firing transaction, so
 * the parent can count firings per timer.
 *
 * Environment: FIRING_DATABASE_URL, FIRING_SCHEMA, FIRING_MODE ("fire" | "die-after-claim"),
 * FIRING_BATCH (default 500), FIRING_LEASE_MS (default 60000), FIRING_HANDLER ("row": one insert
 * per timer, the default; "batch": one insert per batch, with onBatch).
 * Prints "ready" once connected, starts on a line "go" on stdin, prints a JSON summary at the end.
 *   fire:            fires until no "probe" timer is left, then exits 0.
 *   die-after-claim: claims one batch, starts firing it, and exits before the commit (a crash).
 */
import { createInterface } from "node:readline";
import type { FastifyBaseLogger } from "fastify";
import { sql } from "kysely";
import { openDatabase } from "../db/database.js";
import { systemClock } from "../platform/clock.js";
import { TimerService } from "./service.js";
import * as store from "./store.js";

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const url = env("FIRING_DATABASE_URL");
const schema = env("FIRING_SCHEMA");
const mode = env("FIRING_MODE", "fire");
const batchSize = Number(env("FIRING_BATCH", "500"));
const leaseMs = Number(env("FIRING_LEASE_MS", "60000"));

const database = openDatabase({ kind: "postgres", url }, { searchPath: schema, poolSize: 2 });
// Warnings and errors to stderr (the parent shows them if the process fails); nothing else.
const toStderr = (...args: unknown[]) => process.stderr.write(`${JSON.stringify(args)}\n`);
const quiet = () => {};
const log = {
  level: "warn",
  fatal: toStderr,
  error: toStderr,
  warn: toStderr,
  info: quiet,
  debug: quiet,
  trace: quiet,
  silent: quiet,
  child: () => log,
} as unknown as FastifyBaseLogger;
const timers = new TimerService(
  { db: database.db, dialect: "postgres", clock: systemClock, log },
  { batchSize, leaseMs },
);
let fired = 0;
if (env("FIRING_HANDLER", "row") === "batch") {
  // One insert for all the probes of a batch.
  timers.onBatch("probe", async (tx, due) => {
    const at = systemClock.now();
    await tx
      .insertInto("timer_firings" as never)
      .values(
        due.map((timer) => ({
          subject: timer.subject,
          due_at: timer.dueAt,
          fired_at: at,
          pid: process.pid,
        })) as never,
      )
      .execute();
    fired += due.length;
  });
} else {
  // fired_at: the real instant of the firing (not the round's), to measure lateness.
  timers.on("probe", async (tx, timer) => {
    await sql`insert into timer_firings (subject, due_at, fired_at, pid) values (${timer.subject}, ${timer.dueAt}, ${systemClock.now()}, ${process.pid})`.execute(
      tx,
    );
    fired++;
  });
}

await sql`select 1`.execute(database.db);
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.on("line", (line) => line.trim() === "go" && resolve()));
lines.close();

if (mode === "die-after-claim") {
  const now = systemClock.now();
  const leaseUntil = now + leaseMs;
  const claimed = await store.claimDue(database.db, "postgres", now, leaseUntil, batchSize);
  process.stdout.write(`${JSON.stringify({ claimed: claimed.map((row) => row.subject) })}\n`);
  await database.db.transaction().execute(async (tx) => {
    const taken = await store.takeClaimed(
      tx,
      claimed.map((row) => row.id),
      leaseUntil,
    );
    for (const row of taken)
      await sql`insert into timer_firings (subject, due_at, fired_at, pid) values (${row.subject}, ${row.due_at}, ${now}, ${process.pid})`.execute(
        tx,
      );
    // The process dies mid-way: the firing transaction never commits, the claims stay.
    process.exit(3);
  });
} else {
  const started = performance.now();
  for (;;) {
    await timers.runDue();
    const left = await database.db
      .selectFrom("timers")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("kind", "=", "probe")
      .executeTakeFirstOrThrow();
    if (Number(left.n) === 0) break;
    // Claimed by the other process: wait for its commit (or its lease) without spinning.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.stdout.write(`${JSON.stringify({ fired, seconds: (performance.now() - started) / 1000 })}\n`);
  await database.close();
}
