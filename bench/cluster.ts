/**
 * Two Sesame processes behind one address, for the PostgreSQL pass of bench/run.ts: a node:cluster
 * primary that first brings the schema up to date (`node dist/main.js migrate`, once, so that the
 * workers' own migration at start finds nothing to do), then forks WORKERS workers, each running the
 * compiled server (`dist/main.js serve`) on the same PORT: the primary holds the listening socket and
 * hands connections to the workers in turn (round-robin, node's default on Linux).
 *
 *   node dist/bench/cluster.mjs [node flags for the workers…]     (cwd: the project's root)
 *
 * Settings: Sesame's own, from the environment (DATABASE_URL must be PostgreSQL: a SQLite file is
 * one writer; METRICS_PORT=0 or each worker would try the same metrics port). Prints
 * "cluster: ready, workers <pid>,<pid>" once every worker listens. If a worker dies, the primary
 * stops the others and exits 1; on SIGTERM/SIGINT it stops the workers and exits 0.
 */
import { spawnSync } from "node:child_process";
import cluster, { type Worker } from "node:cluster";
import { resolve } from "node:path";

const WORKERS = 2;
const main = resolve(process.cwd(), "dist/main.js");

if (!process.env.DATABASE_URL?.startsWith("postgres")) {
  console.error("cluster: DATABASE_URL must be a PostgreSQL URL");
  process.exit(2);
}
if (process.env.METRICS_PORT !== "0") {
  console.error("cluster: set METRICS_PORT=0 (the workers would all try the same metrics port)");
  process.exit(2);
}

const migrated = spawnSync(process.execPath, [main, "migrate"], { stdio: "inherit", env: process.env });
if (migrated.status !== 0) {
  console.error(`cluster: "node dist/main.js migrate" failed (exit ${migrated.status ?? migrated.signal})`);
  process.exit(1);
}

cluster.setupPrimary({ exec: main, args: ["serve"], execArgv: process.argv.slice(2) });

let stopping = false;
const workers: Worker[] = [];
const listening = new Set<number>();

function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  const alive = workers.filter((w) => !w.isDead());
  if (alive.length === 0) process.exit(code);
  for (const w of alive) w.process.kill("SIGTERM");
  cluster.on("exit", () => {
    if (workers.every((w) => w.isDead())) process.exit(code);
  });
  setTimeout(() => {
    for (const w of workers) if (!w.isDead()) w.process.kill("SIGKILL");
    process.exit(code);
  }, 10_000).unref();
}

cluster.on("listening", (worker) => {
  listening.add(worker.id);
  if (listening.size === WORKERS)
    console.log(`cluster: ready, workers ${workers.map((w) => w.process.pid).join(",")}`);
});
cluster.on("exit", (worker, code, signal) => {
  if (stopping) return;
  console.error(`cluster: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); stopping`);
  stopAll(1);
});
for (let i = 0; i < WORKERS; i++) workers.push(cluster.fork());

process.once("SIGTERM", () => stopAll(0));
process.once("SIGINT", () => stopAll(0));
