/**
 * Load benchmark of the hot paths: `npm run bench`.
 *
 * Starts the real server (node + tsx on src/main.ts, as a child process) on 127.0.0.1 with a fresh
 * database (a SQLite file in a temporary directory, or a throw-away database on the local
 * PostgreSQL, dropped at the end), then drives autocannon against the scenarios picked:
 *   baseline  GET /healthz (no database): the ceiling of this harness on this machine
 *   start     starting a recovery (known and unknown addresses)
 *   channel   choosing a recovery channel
 *   signin    signing in (argon2id)
 *   intake    opening a support case (POST /api/v1/cases, public), each with its acknowledgement
 *             mail in the outbox; a new contact address every request (the per-contact cap is 5/h)
 *   queue     a team's queue (GET /api/v1/teams/:team/queue, service token) with BENCH_QUEUE_CASES
 *             cases (default 1,000,000) bulk-inserted with SQL, most of them resolved
 *   timers    100,000 timers due at once, two firing processes (bench/timers.ts; PostgreSQL only)
 * Prints requests/s, p50/p95/p99 latency, unexpected statuses and the server's peak RSS; writes
 * JSON too when BENCH_JSON=<path> is set.
 *
 * Settings (environment):
 *   BENCH_DATABASE     sqlite (default), postgres, or both (one pass each, sqlite first)
 *   BENCH_PG_URL       PostgreSQL server to make the throw-away databases on (must be 127.0.0.1;
 *                      default SESAME_TEST_DATABASE_URL, else postgres://root@127.0.0.1:5432/test)
 *   BENCH_SECONDS      seconds per scenario (default 10)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_QUEUE_CONNECTIONS  concurrent connections of the queue scenario (default 10: agents
 *                      reading their queues, not a flood)
 *   BENCH_ACCOUNTS     accounts seeded (default 200); as many unknown addresses are mixed in
 *   BENCH_RECOVERIES   recoveries started before the channel scenario (default 3000)
 *   BENCH_QUEUE_CASES  cases in the database for the queue scenario (default 1000000)
 *   BENCH_SCENARIOS    comma list among baseline,start,channel,signin,intake,queue,timers (default all)
 *   BENCH_TIMERS       timers due at once in the timers scenario (default 100000)
 *   BENCH_SERVER_ARGS  extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   BENCH_JSON         write the results as JSON to this path
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import {
  type BenchDb,
  type BenchTeam,
  createBenchDatabase,
  localPostgresUrl,
  openPostgresBenchDb,
  openSqliteBenchDb,
  QUEUE_MIX,
} from "./desk.js";
import { benchTimers, printTimersBench, type TimersBenchResult } from "./timers.js";

type RawRequest = autocannon.Request;

// ---------------------------------------------------------------------------------------------- settings

const wholeNumber = (name: string, fallback: number, min = 1): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min) {
    throw new Error(`${name} must be a whole number >= ${min}, got "${raw}"`);
  }
  return Number(raw);
};

const SECONDS = wholeNumber("BENCH_SECONDS", 10);
const CONNECTIONS = wholeNumber("BENCH_CONNECTIONS", 50);
const ACCOUNTS = wholeNumber("BENCH_ACCOUNTS", 200);
const RECOVERIES = wholeNumber("BENCH_RECOVERIES", 3000);
const QUEUE_CONNECTIONS = wholeNumber("BENCH_QUEUE_CONNECTIONS", 10);
const QUEUE_CASES = wholeNumber("BENCH_QUEUE_CASES", 1_000_000);
const TIMERS = wholeNumber("BENCH_TIMERS", 100_000);
const PG_URL =
  process.env.BENCH_PG_URL || process.env.SESAME_TEST_DATABASE_URL || "postgres://root@127.0.0.1:5432/test";
type DatabaseKind = "sqlite" | "postgres";
const DATABASES: DatabaseKind[] = (() => {
  const raw = (process.env.BENCH_DATABASE ?? "sqlite").trim();
  if (raw === "" || raw === "sqlite") return ["sqlite"];
  if (raw === "postgres") return ["postgres"];
  if (raw === "both") return ["sqlite", "postgres"];
  throw new Error(`BENCH_DATABASE must be sqlite, postgres or both, got "${raw}"`);
})();
const JSON_PATH = process.env.BENCH_JSON || null;
const SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? "").split(/\s+/).filter(Boolean);
const ALL_SCENARIOS = ["baseline", "start", "channel", "signin", "intake", "queue", "timers"] as const;
type ScenarioName = (typeof ALL_SCENARIOS)[number];
const SCENARIOS: ScenarioName[] = (() => {
  const raw = process.env.BENCH_SCENARIOS;
  if (!raw) return [...ALL_SCENARIOS];
  const picked = raw.split(",").map((s) => s.trim());
  for (const s of picked)
    if (!(ALL_SCENARIOS as readonly string[]).includes(s))
      throw new Error(`BENCH_SCENARIOS: unknown scenario "${s}" (known: ${ALL_SCENARIOS.join(", ")})`);
  return ALL_SCENARIOS.filter((s) => picked.includes(s));
})();

const HOST = "127.0.0.1"; // the only host this script ever talks to
const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const API_TOKEN = `bench-${randomBytes(24).toString("hex")}`;
// Per database: startup + seeding + pre-created recoveries + bulk cases (~1 ms each, generous) +
// timers (~0.3 ms each) + the scenarios, with room to spare; then we give up.
const DEADLINE_MS =
  DATABASES.length *
  (180_000 +
    ACCOUNTS * 500 +
    RECOVERIES * 20 +
    (SCENARIOS.includes("queue") ? QUEUE_CASES : 0) +
    (SCENARIOS.includes("timers") ? TIMERS * 0.3 + 60_000 : 0) +
    SCENARIOS.length * (SECONDS + 30) * 1000);

// ---------------------------------------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => (port ? resolvePort(port) : reject(new Error("no free port"))));
    });
  });
}

/** A field of /proc/<pid>/status in KiB (Linux only; null elsewhere or once the process is gone). */
function procStatusKiB(pid: number, field: "VmRSS" | "VmHWM"): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) the process has used so far (Linux only). */
function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

const mib = (kib: number | null) => (kib === null ? null : Math.round((kib / 1024) * 10) / 10);

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
}

// ---------------------------------------------------------------------------------------------- server

interface Server {
  child: ChildProcess;
  pid: number;
  base: string;
  logTail: string[];
  logLines: number;
  exited: Promise<number | null>;
}

let server: Server | null = null;
let tmpDir: string | null = null;
/** The throw-away PostgreSQL database of the current pass, dropped when the pass ends. */
let pgDatabase: { url: string; drop: () => Promise<void> } | null = null;

function startServer(port: number, dir: string, databaseUrl: string): Server {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing inherited may send real mail/SMS, seed demo data, or change the clock or client-IP logic.
  for (const name of [
    "SMTP_URL",
    "SMS_GATEWAY_URL",
    "SESAME_SEED",
    "SESAME_CLOCK",
    "SESAME_TRUST_PROXY",
    "PUBLIC_URL",
    "SESAME_TRIES_PER_CODE",
    "NODE_OPTIONS",
    "SESAME_CONFIG",
    "SMTP_INBOUND_PORT",
    "METRICS_PORT",
  ])
    delete env[name];
  // Not NODE_ENV=production: with no transport configured, production turns mail and SMS off, and
  // the channel scenario needs them captured (as the development default does, sending nothing).
  delete env.NODE_ENV;
  Object.assign(env, {
    HOST,
    PORT: String(port),
    PUBLIC_URL: `http://${HOST}:${port}`,
    DATABASE_URL: databaseUrl,
    SESAME_DATA_DIR: dir,
    SESAME_SECRET: randomBytes(32).toString("hex"),
    SESAME_API_TOKEN: API_TOKEN,
    SESAME_RATE_LIMIT_PER_IP: "0",
    // No Prometheus listener: its fixed port would clash between passes and with other servers.
    METRICS_PORT: "0",
    SESAME_RECOVERIES_PER_ACCOUNT_PER_HOUR: "100000000",
    SESAME_CODES_PER_ACCOUNT_PER_HOUR: "100000000",
    LOG_LEVEL: "warn",
  });
  // node itself (not npx or a shell) so that the pid is the server's, for the memory readings.
  const child = spawn(process.execPath, [...SERVER_ARGS, "--import", "tsx", "src/main.ts", "serve"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error("could not start the server");
  const started: Server = {
    child,
    pid: child.pid,
    base: `http://${HOST}:${port}`,
    logTail: [],
    logLines: 0,
    exited: new Promise((r) => child.once("exit", (code) => r(code))),
  };
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      started.logLines++;
      started.logTail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (started.logTail.length > 20) started.logTail.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return started;
}

async function waitReady(s: Server, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void s.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < until) {
    if (exitCode !== undefined) throw new Error(`the server exited (code ${exitCode}) before it was ready`);
    try {
      const response = await fetch(`${s.base}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`the server was not ready within ${timeoutMs / 1000} s`);
}

async function stopServer(): Promise<void> {
  const s = server;
  if (!s) return;
  server = null;
  if (s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill("SIGTERM");
    const ended = await Promise.race([s.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!ended) {
      s.child.kill("SIGKILL");
      await Promise.race([s.exited, sleep(2_000)]);
    }
  }
}

function removeTmp(): void {
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
}

async function dropPgDatabase(): Promise<void> {
  const database = pgDatabase;
  pgDatabase = null;
  if (database) await database.drop();
}

// Last resort if we are leaving without the orderly cleanup (uncaught error, signal, deadline).
process.on("exit", () => {
  if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
  removeTmp();
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    void stopServer()
      .then(dropPgDatabase)
      .finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------- HTTP

async function post(
  path: string,
  body: unknown,
  auth = false,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server!.base}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(auth ? { authorization: `Bearer ${API_TOKEN}` } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // keep {}
  }
  return { status: response.status, json };
}

// ---------------------------------------------------------------------------------------------- data

interface Account {
  address: string;
  password: string;
  alternate: string;
}

const accounts: Account[] = Array.from({ length: ACCOUNTS }, (_, i) => ({
  address: `bench-user-${i}@example.test`,
  password: `bench-${i}-Quartz-Lantern-${randomBytes(4).toString("hex")}`,
  alternate: `bench-alt-${i}@example.net`,
}));
const unknownAddresses = Array.from({ length: ACCOUNTS }, (_, i) => `bench-nobody-${i}@example.test`);
/** Known and unknown addresses, interleaved. */
const mixedAddresses = accounts.flatMap((a, i) => [a.address, unknownAddresses[i]!]);

async function seedAccounts(): Promise<void> {
  await pool(accounts, 4, async (account) => {
    const { status, json } = await post(
      "/api/v1/accounts",
      {
        address: account.address,
        password: account.password,
        alternates: [{ kind: "email", value: account.alternate, verified: true }],
      },
      true,
    );
    if (status !== 201) throw new Error(`seeding ${account.address}: HTTP ${status} ${JSON.stringify(json)}`);
  });
}

interface Started {
  id: string;
  /** The verified alternate of the account, or (unknown address) some address. */
  matching: string;
  nonMatching: string;
}

async function startRecoveries(count: number): Promise<Started[]> {
  const made: Started[] = new Array(count);
  await pool(
    Array.from({ length: count }, (_, i) => i),
    16,
    async (i) => {
      const known = i % 2 === 0;
      const k = Math.floor(i / 2) % ACCOUNTS;
      const address = known ? accounts[k]!.address : unknownAddresses[k]!;
      const { status, json } = await post("/api/v1/recovery", { address });
      if (status !== 201 || typeof json.recoveryId !== "string")
        throw new Error(`starting a recovery: HTTP ${status} ${JSON.stringify(json)}`);
      made[i] = {
        id: json.recoveryId,
        matching: known ? accounts[k]!.alternate : `bench-guess-${k}@example.net`,
        nonMatching: `bench-wrong-${k}@example.org`,
      };
    },
  );
  return made;
}

/** Sequential, quiet-server latency of starting a recovery for known vs unknown addresses. */
async function timingParity(rounds: number) {
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const [address, into] of [
      [accounts[i % ACCOUNTS]!.address, known],
      [unknownAddresses[i % ACCOUNTS]!, unknown],
    ] as const) {
      const t0 = performance.now();
      const { status } = await post("/api/v1/recovery", { address });
      into.push(performance.now() - t0);
      if (status !== 201) throw new Error(`timing check: HTTP ${status}`);
    }
  }
  const pct = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return (
      Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 1000) / 1000
    );
  };
  return {
    rounds,
    knownMs: { p50: pct(known, 50), p90: pct(known, 90) },
    unknownMs: { p50: pct(unknown, 50), p90: pct(unknown, 90) },
  };
}

// ---------------------------------------------------------------------------------------------- scenarios

interface ScenarioResult {
  scenario: string;
  database: DatabaseKind;
  route: string;
  expectedStatus: number;
  connections: number;
  requestsPerSecond: number;
  totalRequests: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  unexpectedStatus: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  serverPeakRssMiB: number | null;
  serverCpuPercent: number | null;
  /** CPU of this process (autocannon), which shares the machine with the server. */
  loadGeneratorCpuPercent: number;
  /** What the scenario checked beyond the statuses (e.g. rows written), and whether it held. */
  checks?: { note: string; ok: boolean };
}

/** Percentile of response times (ms, one decimal), nearest-rank. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[rank]! * 10) / 10;
}

interface ScenarioOptions {
  method?: autocannon.Request["method"];
  connections?: number;
  headers?: Record<string, string>;
}

async function runScenario(
  database: DatabaseKind,
  scenario: string,
  route: string,
  expectedStatus: number,
  setupRequest: ((request: RawRequest) => RawRequest) | null,
  options: ScenarioOptions = {},
): Promise<ScenarioResult> {
  const method = options.method ?? "POST";
  const connections = options.connections ?? CONNECTIONS;
  const headers = {
    ...(setupRequest && method !== "GET" ? { "content-type": "application/json" } : {}),
    ...options.headers,
  };
  const pid = server!.pid;
  let peakRss = procStatusKiB(pid, "VmRSS");
  const sampler = setInterval(() => {
    const rss = procStatusKiB(pid, "VmRSS");
    if (rss !== null && (peakRss === null || rss > peakRss)) peakRss = rss;
  }, 100);
  const cpu0 = procCpuSeconds(pid);
  const ownCpu0 = process.cpuUsage();
  const t0 = performance.now();
  process.stdout.write(`bench: [${database}] ${scenario} (${SECONDS} s, ${connections} connections)… `);
  try {
    const run = autocannon({
      url: server!.base,
      connections,
      duration: SECONDS,
      timeout: 30,
      requests: [
        setupRequest ? { method, path: route, headers, setupRequest } : { method, path: route, headers },
      ],
    }) as unknown as Promise<autocannon.Result> & NodeJS.EventEmitter;
    // Every response time, for percentiles autocannon does not give (p95).
    let times = new Float64Array(1 << 16);
    let count = 0;
    run.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      if (count === times.length) {
        const bigger = new Float64Array(times.length * 2);
        bigger.set(times);
        times = bigger;
      }
      times[count++] = responseTime;
    });
    const result = await run;
    const sorted = times.subarray(0, count).sort();
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = procCpuSeconds(pid);
    const ownCpu = process.cpuUsage(ownCpu0);
    const statusCodes: Record<string, number> = {};
    for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {}))
      statusCodes[code] = Number(count);
    const unexpected = Object.entries(statusCodes)
      .filter(([code]) => Number(code) !== expectedStatus)
      .reduce((sum, [, n]) => sum + n, 0);
    console.log("done");
    return {
      scenario,
      database,
      route,
      expectedStatus,
      connections,
      requestsPerSecond: Math.round(result.requests.average),
      totalRequests: result.requests.total,
      latencyP50Ms: percentile(sorted, 50),
      latencyP95Ms: percentile(sorted, 95),
      latencyP99Ms: percentile(sorted, 99),
      non2xx: result.non2xx,
      unexpectedStatus: unexpected,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodes,
      serverPeakRssMiB: mib(peakRss),
      serverCpuPercent: cpu0 !== null && cpu1 !== null ? Math.round(((cpu1 - cpu0) / elapsed) * 100) : null,
      loadGeneratorCpuPercent: Math.round((ownCpu.user + ownCpu.system) / 1e4 / elapsed),
    };
  } finally {
    clearInterval(sampler);
  }
}

function scenarioBaseline(database: DatabaseKind) {
  return runScenario(database, "baseline: GET /healthz (no db)", "/healthz", 200, null, { method: "GET" });
}

function scenarioStart(database: DatabaseKind) {
  let n = 0;
  return runScenario(database, "recovery start (known+unknown)", "/api/v1/recovery", 201, (request) => ({
    ...request,
    body: JSON.stringify({ address: mixedAddresses[n++ % mixedAddresses.length] }),
  }));
}

function scenarioChannel(database: DatabaseKind, started: Started[]) {
  let n = 0;
  return runScenario(
    database,
    "recovery channel (match/no match)",
    "/api/v1/recovery/:id/channel",
    202,
    (request) => {
      const i = n++;
      const entry = started[i % started.length]!;
      // Alternate matching / non-matching values, shifting each lap so every recovery gets both.
      const matching = (i + Math.floor(i / started.length)) % 2 === 0;
      return {
        ...request,
        path: `/api/v1/recovery/${entry.id}/channel`,
        body: JSON.stringify({ kind: "email", value: matching ? entry.matching : entry.nonMatching }),
      };
    },
  );
}

function scenarioSignin(database: DatabaseKind) {
  let n = 0;
  return runScenario(database, "sign-in (argon2id verify)", "/api/v1/signin", 200, (request) => {
    const account = accounts[n++ % accounts.length]!;
    return { ...request, body: JSON.stringify({ address: account.address, password: account.password }) };
  });
}

/**
 * Public case intake: a new contact address on every request (the per-contact cap is 5 an hour),
 * rotating languages and countries, so every request opens a case, schedules its deadlines and
 * queues its acknowledgement mail. Checks afterwards that the cases and mails were written.
 */
async function scenarioIntake(database: DatabaseKind, benchDb: BenchDb) {
  const tag = randomBytes(3).toString("hex");
  const languages = ["en", "fr", "nl", "de"];
  const countries = ["IE", "FR", "NL", "DE", "BE"];
  const casesBefore = await benchDb.count("select count(*) as n from cases");
  const outboxBefore = await benchDb.count("select count(*) as n from outbox where channel = 'email'");
  let n = 0;
  const result = await runScenario(
    database,
    "case intake (+ outbox mail)",
    "/api/v1/cases",
    201,
    (request) => {
      const i = n++;
      return {
        ...request,
        body: JSON.stringify({
          contactEmail: `bench-intake-${tag}-${i}@example.test`,
          language: languages[i % languages.length],
          country: countries[i % countries.length],
          subject: `Cannot sign in (${i})`,
          body: "I lost my phone and no longer receive the code. Please help me get back into my mailbox.",
        }),
      };
    },
  );
  // Requests still in flight when autocannon stops are answered after it counted: allow for them.
  await sleep(1_000);
  const cases = (await benchDb.count("select count(*) as n from cases")) - casesBefore;
  const mails =
    (await benchDb.count("select count(*) as n from outbox where channel = 'email'")) - outboxBefore;
  const answered = result.statusCodes["201"] ?? 0;
  const ok = cases >= answered && cases <= answered + result.connections && mails >= cases;
  result.checks = { note: `${answered} answers 201, ${cases} cases and ${mails} mails written`, ok };
  return result;
}

interface QueueSetup {
  casesInDatabase: number;
  insertedCases: number;
  insertSeconds: number;
  teams: string[];
}

/** Bulk-inserts the cases (SQL, outside the server), checks each team's queue once, then loads it. */
async function scenarioQueue(database: DatabaseKind, benchDb: BenchDb) {
  const teamsResponse = await fetch(`${server!.base}/api/v1/teams`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
    signal: AbortSignal.timeout(30_000),
  });
  if (teamsResponse.status !== 200) throw new Error(`GET /api/v1/teams: HTTP ${teamsResponse.status}`);
  const teams = ((await teamsResponse.json()) as { teams: BenchTeam[] }).teams;
  if (teams.length === 0) throw new Error("the organisation has no teams");

  process.stdout.write(`bench: [${database}] inserting ${QUEUE_CASES.toLocaleString("en")} cases… `);
  const t0 = performance.now();
  await benchDb.insertCases(0, QUEUE_CASES, teams, Date.now());
  await benchDb.analyze();
  const insertSeconds = Math.round((performance.now() - t0) / 100) / 10;
  const casesInDatabase = await benchDb.count("select count(*) as n from cases");
  console.log(`${insertSeconds} s (${casesInDatabase.toLocaleString("en")} cases in the database)`);

  // Each team's queue once, before the load: full (100 cases), open ones first, nearest deadline
  // first; the last team has fewer than 100 open cases (QUEUE_MIX), filled up with waiting ones.
  const problems: string[] = [];
  const openCounts: string[] = [];
  for (const team of teams) {
    const response = await fetch(`${server!.base}/api/v1/teams/${team.id}/queue`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { cases?: Array<{ status: string; nextDue: string | null }> };
    const cases = body.cases ?? [];
    const open = cases.filter((c) => c.status === "open").map((c) => Date.parse(c.nextDue ?? ""));
    const openFirst = cases.every((c, i) => i < open.length === (c.status === "open"));
    const [least, most] = team === teams[teams.length - 1] ? [1, 99] : [100, 100];
    openCounts.push(`${team.id} ${open.length}`);
    if (response.status !== 200 || cases.length !== 100)
      problems.push(`${team.id}: HTTP ${response.status}, ${cases.length} cases`);
    else if (open.length < least || open.length > most)
      problems.push(`${team.id}: ${open.length} open cases in its queue`);
    else if (!openFirst || open.some((at, i) => i > 0 && at < open[i - 1]!))
      problems.push(`${team.id}: not in order (open first, nearest deadline first)`);
  }

  let n = 0;
  const result = await runScenario(
    database,
    `team queue (${(casesInDatabase / 1e6).toFixed(2)}M cases)`,
    "/api/v1/teams/:team/queue",
    200,
    (request) => ({ ...request, path: `/api/v1/teams/${teams[n++ % teams.length]!.id}/queue` }),
    {
      method: "GET",
      connections: QUEUE_CONNECTIONS,
      headers: { authorization: `Bearer ${API_TOKEN}` },
    },
  );
  result.checks = {
    note:
      problems.length === 0
        ? `each team's queue 100 cases, open first, nearest deadline first (open: ${openCounts.join(", ")})`
        : problems.join("; "),
    ok: problems.length === 0,
  };
  const setup: QueueSetup = {
    casesInDatabase,
    insertedCases: QUEUE_CASES,
    insertSeconds,
    teams: teams.map((t) => t.id),
  };
  return { result, setup };
}

// ---------------------------------------------------------------------------------------------- report

function printTable(rows: ScenarioResult[]): void {
  const header = [
    "database",
    "scenario",
    "conns",
    "req/s (avg)",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "non-2xx",
    "errors",
    "timeouts",
    "server CPU",
    "autocannon CPU",
  ];
  const body = rows.map((r) => [
    r.database,
    r.scenario,
    String(r.connections),
    String(r.requestsPerSecond),
    String(r.latencyP50Ms),
    String(r.latencyP95Ms),
    String(r.latencyP99Ms),
    String(r.non2xx),
    String(r.errors),
    String(r.timeouts),
    r.serverCpuPercent === null ? "n/a" : `${r.serverCpuPercent}%`,
    `${r.loadGeneratorCpuPercent}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of body) console.log(line(row));
}

// ---------------------------------------------------------------------------------------------- passes

interface PassResult {
  database: DatabaseKind;
  serverBootMs: number | null;
  timingParity: Awaited<ReturnType<typeof timingParity>> | null;
  scenarios: ScenarioResult[];
  queue: QueueSetup | null;
  timers: TimersBenchResult | null;
  serverPeakRssMiB: number | null;
  serverIdleRssMiB: number | null;
}

/** One database: a fresh server on it, the HTTP scenarios, then (PostgreSQL) the timers. */
async function runPass(database: DatabaseKind): Promise<PassResult> {
  const pass: PassResult = {
    database,
    serverBootMs: null,
    timingParity: null,
    scenarios: [],
    queue: null,
    timers: null,
    serverPeakRssMiB: null,
    serverIdleRssMiB: null,
  };
  const http = SCENARIOS.filter((s) => s !== "timers");
  if (http.length > 0) {
    tmpDir = mkdtempSync(join(os.tmpdir(), "sesame-bench-"));
    const sqlitePath = join(tmpDir, "bench.db");
    if (database === "postgres") pgDatabase = await createBenchDatabase(PG_URL);
    const databaseUrl = database === "postgres" ? pgDatabase!.url : `sqlite:${sqlitePath}`;
    const port = await freePort();
    const bootT0 = performance.now();
    server = startServer(port, tmpDir, databaseUrl);
    let benchDb: BenchDb | null = null;
    try {
      await waitReady(server);
      pass.serverBootMs = Math.round(performance.now() - bootT0);
      console.log(
        `bench: [${database}] server pid ${server.pid} ready at ${server.base} in ${pass.serverBootMs} ms (${database === "postgres" ? `database ${new URL(databaseUrl).pathname.slice(1)}` : `db in ${tmpDir}`})`,
      );
      benchDb =
        database === "postgres" ? await openPostgresBenchDb(databaseUrl) : openSqliteBenchDb(sqlitePath);

      if (http.some((s) => s === "start" || s === "channel" || s === "signin")) {
        const t0 = performance.now();
        await seedAccounts();
        console.log(`bench: seeded ${ACCOUNTS} accounts in ${Math.round(performance.now() - t0)} ms`);
        pass.serverIdleRssMiB = mib(procStatusKiB(server.pid, "VmRSS"));
        const parity = await timingParity(200);
        pass.timingParity = parity;
        console.log(
          `bench: recovery start, quiet server, sequential: known p50 ${parity.knownMs.p50} ms / p90 ${parity.knownMs.p90} ms; unknown p50 ${parity.unknownMs.p50} ms / p90 ${parity.unknownMs.p90} ms`,
        );
      } else {
        pass.serverIdleRssMiB = mib(procStatusKiB(server.pid, "VmRSS"));
      }

      if (http.includes("baseline")) pass.scenarios.push(await scenarioBaseline(database));
      if (http.includes("start")) pass.scenarios.push(await scenarioStart(database));
      if (http.includes("channel")) {
        const t0 = performance.now();
        const started = await startRecoveries(RECOVERIES);
        console.log(`bench: started ${RECOVERIES} recoveries in ${Math.round(performance.now() - t0)} ms`);
        pass.scenarios.push(await scenarioChannel(database, started));
      }
      if (http.includes("signin")) pass.scenarios.push(await scenarioSignin(database));
      if (http.includes("intake")) pass.scenarios.push(await scenarioIntake(database, benchDb));
      if (http.includes("queue")) {
        const { result, setup } = await scenarioQueue(database, benchDb);
        pass.scenarios.push(result);
        pass.queue = setup;
      }
      pass.serverPeakRssMiB = mib(procStatusKiB(server.pid, "VmHWM"));
      if (server.logLines > 0) {
        console.log(
          `\nbench: [${database}] server wrote ${server.logLines} log line(s) at warn or above; the last ones:`,
        );
        for (const line of server.logTail) console.log(`  ${line}`);
      }
    } catch (error) {
      if (server && server.logTail.length > 0) {
        console.error("bench: last server output:");
        for (const line of server.logTail) console.error(`  ${line}`);
      }
      throw error;
    } finally {
      await benchDb?.close();
      await stopServer();
      await dropPgDatabase();
      removeTmp();
    }
  }
  if (SCENARIOS.includes("timers")) {
    if (database === "postgres") {
      process.stdout.write(
        `bench: [postgres] timers: ${TIMERS.toLocaleString("en")} due at once, 2 processes (own schema)… `,
      );
      pass.timers = await benchTimers({
        url: localPostgresUrl(PG_URL).toString(),
        timers: TIMERS,
        processes: 2,
      });
      console.log("done");
    } else if (!DATABASES.includes("postgres")) {
      console.log(
        "bench: timers: PostgreSQL only (two firing processes); run with BENCH_DATABASE=postgres or both",
      );
    }
  }
  return pass;
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    console.error(`\nbench: gave up after ${Math.round(DEADLINE_MS / 1000)} s`);
    void stopServer()
      .then(dropPgDatabase)
      .finally(() => process.exit(124));
  }, DEADLINE_MS);
  deadline.unref();

  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    /** Other work on the machine skews every figure: the 1-minute load average when we began. */
    loadAverageAtStart: Math.round(os.loadavg()[0]! * 100) / 100,
  };
  if (machine.loadAverageAtStart > 0.5)
    console.warn(
      `bench: warning: load average ${machine.loadAverageAtStart} before starting; other processes will skew the figures`,
    );

  const passes: PassResult[] = [];
  try {
    for (const database of DATABASES) passes.push(await runPass(database));
  } finally {
    clearTimeout(deadline);
  }

  const results = passes.flatMap((p) => p.scenarios);
  console.log();
  if (results.length > 0) printTable(results);
  console.log();
  for (const r of results) {
    const codes = Object.entries(r.statusCodes)
      .map(([code, n]) => `${code}×${n}`)
      .join(", ");
    const verdict =
      r.unexpectedStatus === 0 && r.errors === 0 && r.checks?.ok !== false ? "ok" : "UNEXPECTED";
    console.log(
      `  [${r.database}] ${r.scenario}: ${r.totalRequests} requests, statuses ${codes || "none"} (expected ${r.expectedStatus})${r.checks ? `; ${r.checks.note}` : ""}: ${verdict}; peak RSS during run ${r.serverPeakRssMiB ?? "n/a"} MiB`,
    );
  }
  for (const p of passes) {
    if (p.queue)
      console.log(
        `  [${p.database}] queue data: ${p.queue.insertedCases.toLocaleString("en")} cases inserted in ${p.queue.insertSeconds} s (${QUEUE_MIX.open}% open, ${QUEUE_MIX.waiting}% waiting, the rest resolved, over ${p.queue.teams.length} teams); ${p.queue.casesInDatabase.toLocaleString("en")} in the database`,
      );
    if (p.serverBootMs !== null)
      console.log(
        `  [${p.database}] server peak RSS (VmHWM): ${p.serverPeakRssMiB ?? "n/a"} MiB (idle before the load: ${p.serverIdleRssMiB ?? "n/a"} MiB)`,
      );
  }
  for (const p of passes) {
    if (!p.timers) continue;
    console.log();
    printTimersBench(p.timers);
  }
  console.log();
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.totalMemoryGiB} GiB RAM, node ${machine.node}, ${machine.os}; load average ${machine.loadAverageAtStart} at start, ${Math.round(os.loadavg()[0]! * 100) / 100} at end`,
  );
  console.log(
    `note: autocannon runs on the same machine and competes with the server for the ${machine.cores} cores (CPU: 100% = one core).`,
  );

  const timersFailed = passes.some((p) => p.timers && (p.timers.duplicates > 0 || p.timers.missing > 0));
  const failed =
    timersFailed || results.some((r) => r.unexpectedStatus > 0 || r.errors > 0 || r.checks?.ok === false);
  if (JSON_PATH) {
    const report = {
      at: new Date().toISOString(),
      settings: {
        seconds: SECONDS,
        connections: CONNECTIONS,
        queueConnections: QUEUE_CONNECTIONS,
        accounts: ACCOUNTS,
        unknownAddresses: ACCOUNTS,
        recoveriesForChannel: SCENARIOS.includes("channel") ? RECOVERIES : 0,
        queueCases: SCENARIOS.includes("queue") ? QUEUE_CASES : 0,
        timers: SCENARIOS.includes("timers") ? TIMERS : 0,
        databases: DATABASES.map((d) =>
          d === "sqlite" ? "sqlite (file, WAL)" : "postgres (throw-away database)",
        ),
      },
      machine,
      passes,
      ok: !failed,
    };
    writeFileSync(JSON_PATH, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nbench: wrote ${JSON_PATH}`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
