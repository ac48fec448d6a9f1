/**
 * Load benchmark of the hot paths: `npm run bench` (the soak: `npm run bench:soak`).
 *
 * Builds the server (`npm run build`, once) and starts it as production runs it, compiled
 * (`node dist/main.js serve`, a child process whose pid is the server's), on 127.0.0.1 with a fresh
 * database (a SQLite file in a temporary directory, or a throw-away database on the local
 * PostgreSQL, dropped at the end). Beside it runs the limit server (bench/limit-server.ts: bare
 * node:http + better-sqlite3, one insert per request, Sesame's pragmas), the "physical limit" of a
 * recovery start on this machine. Then drives autocannon against the scenarios picked:
 *   baseline  GET /healthz (no database): the ceiling of this harness on this machine
 *   start     starting a recovery (known and unknown addresses), in alternation with the limit
 *             server (Sesame round 1, limit round 1, Sesame round 2, …); on PostgreSQL against two
 *             Sesame processes behind one address (bench/cluster.ts)
 *   channel   choosing a recovery channel, in alternation with the limit server likewise
 *   signin    signing in (argon2id), in alternation with the raw argon2id verify rate of Sesame's
 *             parameters, 4 in flight (bench/argon2-limit.ts, while Sesame is idle)
 *   intake    opening a support case (POST /api/v1/cases, public), each with its acknowledgement
 *             mail in the outbox; a new contact address every request (the per-contact cap is 5/h)
 *   queue     a team's queue (GET /api/v1/teams/:team/queue, service token) with BENCH_QUEUE_CASES
 *             cases (default 1,000,000) bulk-inserted with SQL, most of them resolved
 *   timers    100,000 timers due at once, two firing processes (bench/timers.ts; PostgreSQL only)
 *   soak      (opt-in, not in the default list) recovery starts at a fixed BENCH_SOAK_RATE for
 *             BENCH_SOAK_SECONDS, the server's RSS and the p99 of each 10 s window; memory must
 *             stay flat (bench/soak.ts)
 * Prints requests/s, p50/p95/p99 latency, unexpected statuses, the server's RSS sampled while the
 * load runs (max and mean), each figure of start and channel as a percentage of the limit server's
 * in the same run and sign-in as a percentage of the raw argon2id rate, with the goals of issue 7
 * met or missed; writes JSON too when BENCH_JSON=<path> is set. Exits non-zero on an unexpected
 * status, a connection error, a failed check or a soak whose memory is not flat.
 *
 * Settings (environment):
 *   BENCH_DATABASE     sqlite (default), postgres, or both (one pass each, sqlite first)
 *   BENCH_PG_URL       PostgreSQL server to make the throw-away databases on (must be 127.0.0.1;
 *                      default SESAME_TEST_DATABASE_URL, else postgres://root@127.0.0.1:5432/test)
 *   BENCH_SECONDS      seconds per scenario and per round (default 10)
 *   BENCH_ROUNDS       rounds of each alternation A B A B (start, channel, signin; default 2)
 *   BENCH_ARGON2_IN_FLIGHT  verifies at a time of the raw argon2id rate (default 4, the issue's)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_QUEUE_CONNECTIONS  concurrent connections of the queue scenario (default 10: agents
 *                      reading their queues, not a flood)
 *   BENCH_ACCOUNTS     accounts seeded (default 200); as many unknown addresses are mixed in
 *   BENCH_RECOVERIES   recoveries started before the channel scenario (default 3000)
 *   BENCH_QUEUE_CASES  cases in the database for the queue scenario (default 1000000)
 *   BENCH_SCENARIOS    comma list among baseline,start,channel,signin,intake,queue,timers,soak
 *                      (default all but soak)
 *   BENCH_TIMERS       timers due at once in the timers scenario (default 100000)
 *   BENCH_SOAK_RATE    recovery starts per second asked in the soak (default 600)
 *   BENCH_SOAK_SECONDS length of the soak (default 600, at least 30)
 *   BENCH_SERVER_ARGS  extra node flags for the server (each cluster worker too), e.g.
 *                      "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   BENCH_JSON         write the results as JSON to this path
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type autocannon from "autocannon";
import {
  type BenchDb,
  type BenchTeam,
  createBenchDatabase,
  localPostgresUrl,
  openPostgresBenchDb,
  openSqliteBenchDb,
  QUEUE_MIX,
} from "./desk.js";
import { type Measured, type MeasureSpec, measure, mergeRounds, rate } from "./measure.js";
import {
  type Comparison,
  type DatabaseKind,
  GOALS,
  type Goal,
  p99Goal,
  percentOf,
  printComparison,
  printSignin,
  printSoak,
  printTable,
  ratioGoal,
  rssGoal,
  type ScenarioResult,
  type SigninComparison,
} from "./report.js";
import {
  type Argon2Limit,
  buildForBench,
  freePort,
  killLiveNow,
  liveProcs,
  mib,
  type Proc,
  procStatusKiB,
  runArgon2Limit,
  type SesameSettings,
  startLimit,
  startScriptNodeFlags,
  startSesame,
  startSesameCluster,
  stopProc,
  sumStatusKiB,
  waitClusterReady,
  waitLimitReady,
  waitSesameReady,
} from "./servers.js";
import { runSoak, type SoakResult } from "./soak.js";
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
const ROUNDS = wholeNumber("BENCH_ROUNDS", 2);
const CONNECTIONS = wholeNumber("BENCH_CONNECTIONS", 50);
const ACCOUNTS = wholeNumber("BENCH_ACCOUNTS", 200);
const RECOVERIES = wholeNumber("BENCH_RECOVERIES", 3000);
const QUEUE_CONNECTIONS = wholeNumber("BENCH_QUEUE_CONNECTIONS", 10);
const QUEUE_CASES = wholeNumber("BENCH_QUEUE_CASES", 1_000_000);
const TIMERS = wholeNumber("BENCH_TIMERS", 100_000);
const SOAK_RATE = wholeNumber("BENCH_SOAK_RATE", 600);
const SOAK_SECONDS = wholeNumber("BENCH_SOAK_SECONDS", 600, 30);
const PG_URL =
  process.env.BENCH_PG_URL || process.env.SESAME_TEST_DATABASE_URL || "postgres://root@127.0.0.1:5432/test";
const DATABASES: DatabaseKind[] = (() => {
  const raw = (process.env.BENCH_DATABASE ?? "sqlite").trim();
  if (raw === "" || raw === "sqlite") return ["sqlite"];
  if (raw === "postgres") return ["postgres"];
  if (raw === "both") return ["sqlite", "postgres"];
  throw new Error(`BENCH_DATABASE must be sqlite, postgres or both, got "${raw}"`);
})();
const JSON_PATH = process.env.BENCH_JSON || null;
// Node's flags of the production start (package.json's start script), then the bench's own.
const SERVER_ARGS = [
  ...startScriptNodeFlags(),
  ...(process.env.BENCH_SERVER_ARGS ?? "").split(/\s+/).filter(Boolean),
];
const ALL_SCENARIOS = [
  "baseline",
  "start",
  "channel",
  "signin",
  "intake",
  "queue",
  "timers",
  "soak",
] as const;
type ScenarioName = (typeof ALL_SCENARIOS)[number];
/** The soak is long (10 minutes by default): only when asked for by name. */
const DEFAULT_SCENARIOS = ALL_SCENARIOS.filter((s) => s !== "soak");
const SCENARIOS: ScenarioName[] = (() => {
  const raw = process.env.BENCH_SCENARIOS;
  if (!raw) return [...DEFAULT_SCENARIOS];
  const picked = raw.split(",").map((s) => s.trim());
  for (const s of picked)
    if (!(ALL_SCENARIOS as readonly string[]).includes(s))
      throw new Error(`BENCH_SCENARIOS: unknown scenario "${s}" (known: ${ALL_SCENARIOS.join(", ")})`);
  return ALL_SCENARIOS.filter((s) => picked.includes(s));
})();
/** Scenarios that run against an HTTP server (all but timers). */
const HTTP_SCENARIOS = SCENARIOS.filter((s) => s !== "timers");

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const API_TOKEN = `bench-${randomBytes(24).toString("hex")}`;
// The build; then per database: startup + seeding + pre-created recoveries + bulk cases (~1 ms
// each, generous) + timers (~0.3 ms each) + the scenarios (the alternated ones twice per round,
// the cluster's start-up, the soak), with room to spare; then we give up.
const DEADLINE_MS =
  (HTTP_SCENARIOS.length > 0 ? 300_000 : 0) +
  DATABASES.length *
    (180_000 +
      ACCOUNTS * 500 +
      RECOVERIES * 20 +
      (SCENARIOS.includes("queue") ? QUEUE_CASES : 0) +
      (SCENARIOS.includes("timers") ? TIMERS * 0.3 + 60_000 : 0) +
      (SCENARIOS.includes("start") ? 120_000 : 0) +
      (SCENARIOS.includes("soak") ? SOAK_SECONDS * 1000 + 60_000 : 0) +
      SCENARIOS.filter((s) => s !== "soak").length * 2 * ROUNDS * (SECONDS + 30) * 1000);

// ---------------------------------------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

// ---------------------------------------------------------------------------------------------- processes

/** Sesame (one process) of the current pass: seeding, checks and the scenarios but start on PostgreSQL. */
let server: Proc | null = null;
/** The limit server: one for the whole run (SQLite in both passes: the same physical limit). */
let limit: Proc | null = null;
let tmpDir: string | null = null;
let limitDir: string | null = null;
/** The throw-away PostgreSQL database of the current pass, dropped when the pass ends. */
let pgDatabase: { url: string; drop: () => Promise<void> } | null = null;
/** Direct SQL on the pass's database (closed before the database is dropped, or its client errs). */
let benchDb: BenchDb | null = null;

async function ensureLimit(): Promise<Proc> {
  if (limit) return limit;
  limitDir = mkdtempSync(join(os.tmpdir(), "sesame-bench-limit-"));
  limit = startLimit(ROOT, await freePort(), join(limitDir, "limit.db"));
  await waitLimitReady(limit);
  console.log(`bench: limit server pid ${limit.pid} ready at ${limit.base} (SQLite in ${limitDir})`);
  return limit;
}

function removeTmp(): void {
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
}

function removeLimitDir(): void {
  if (limitDir) rmSync(limitDir, { recursive: true, force: true });
  limitDir = null;
}

async function closeBenchDb(): Promise<void> {
  const open = benchDb;
  benchDb = null;
  await open?.close().catch(() => {});
}

async function dropPgDatabase(): Promise<void> {
  await closeBenchDb();
  const database = pgDatabase;
  pgDatabase = null;
  if (database) await database.drop();
}

/** Every process this run started, stopped in order; the throw-away database dropped. */
async function stopEverything(): Promise<void> {
  await Promise.all(liveProcs().map((p) => stopProc(p)));
  server = null;
  limit = null;
  await dropPgDatabase();
}

// Last resort if we are leaving without the orderly cleanup (uncaught error, signal, deadline).
process.on("exit", () => {
  killLiveNow();
  removeTmp();
  removeLimitDir();
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    void stopEverything().finally(() => process.exit(130));
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

/** One load of SECONDS (bench/measure.ts); `round` when it is a round of an alternation. */
function load(
  target: Proc,
  database: DatabaseKind,
  scenario: string,
  route: string,
  expectedStatus: number,
  setupRequest: ((request: RawRequest) => RawRequest) | null,
  options: Partial<Pick<MeasureSpec, "method" | "connections" | "headers" | "round">> = {},
): Promise<Measured> {
  return measure(target, {
    database,
    scenario,
    route,
    expectedStatus,
    setupRequest,
    seconds: SECONDS,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    ...options,
  });
}

/** A single run (no alternation): the baseline and the scenarios of the desk. */
async function runScenario(...args: Parameters<typeof load>): Promise<ScenarioResult> {
  return (await load(...args)).result;
}

const START = "recovery start (known+unknown)";
const CHANNEL = "recovery channel (match/no match)";
const SIGNIN = "sign-in (argon2id verify)";

function scenarioBaseline(database: DatabaseKind) {
  return runScenario(server!, database, "baseline: GET /healthz (no db)", "/healthz", 200, null, {
    method: "GET",
  });
}

/** Starting recoveries over the known and unknown addresses in turn (Sesame or the limit server). */
function loadStart(target: Proc, database: DatabaseKind, scenario: string, round?: number) {
  let n = 0;
  return load(
    target,
    database,
    scenario,
    "/api/v1/recovery",
    201,
    (request) => ({
      ...request,
      body: JSON.stringify({ address: mixedAddresses[n++ % mixedAddresses.length] }),
    }),
    round === undefined ? {} : { round },
  );
}

function loadChannel(database: DatabaseKind, started: Started[], round: number) {
  let n = 0;
  return load(
    server!,
    database,
    CHANNEL,
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
    { round },
  );
}

function loadSignin(database: DatabaseKind, round: number) {
  let n = 0;
  return load(
    server!,
    database,
    SIGNIN,
    "/api/v1/signin",
    200,
    (request) => {
      const account = accounts[n++ % accounts.length]!;
      return { ...request, body: JSON.stringify({ address: account.address, password: account.password }) };
    },
    { round },
  );
}

/**
 * Sesame and the limit server in alternation, A B A B: Sesame's round 1, the limit's round 1,
 * Sesame's round 2, … (both stay up; only one is loaded at a time). The limit server always does
 * its one insert per recovery start, whatever Sesame's scenario is.
 */
async function alternateWithLimit(
  database: DatabaseKind,
  scenario: string,
  sesameRound: (round: number) => Promise<Measured>,
  goals: (overall: Comparison["overall"], processes: number) => Goal[],
  processes = 1,
): Promise<Comparison> {
  const limitServer = await ensureLimit();
  const sesame: Measured[] = [];
  const limits: Measured[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    sesame.push(await sesameRound(round));
    limits.push(await loadStart(limitServer, database, "one insert per recovery start", round));
  }
  const s = mergeRounds(sesame).result;
  const l = mergeRounds(limits).result;
  const overall = { sesame: s, limit: l, ratioPercent: percentOf(rate(s), rate(l)) };
  return {
    database,
    scenario,
    rounds: sesame.map((m, i) => ({
      round: i + 1,
      sesame: m.result,
      limit: limits[i]!.result,
      ratioPercent: percentOf(rate(m.result), rate(limits[i]!.result)),
    })),
    overall,
    goals: goals(overall, processes),
  };
}

const startGoals = (o: Comparison["overall"], processes: number): Goal[] => [
  ratioGoal("recovery start", o.ratioPercent, GOALS.startPercent),
  p99Goal(o.sesame.latencyP99Ms),
  rssGoal(o.sesame.serverPeakRssMiB, processes),
];

const channelGoals = (o: Comparison["overall"]): Goal[] => [
  ratioGoal("choosing a channel", o.ratioPercent, GOALS.channelPercent),
  p99Goal(o.sesame.latencyP99Ms),
  rssGoal(o.sesame.serverPeakRssMiB),
];

/**
 * Sign-in in alternation with the raw argon2id verify rate (bench/argon2-limit.ts, while Sesame is
 * idle): sign-in round 1, argon2id round 1, sign-in round 2, …
 */
async function signinAgainstArgon2(database: DatabaseKind): Promise<SigninComparison> {
  const signins: Measured[] = [];
  const argon2: Argon2Limit[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    signins.push(await loadSignin(database, round));
    process.stdout.write(
      `bench: [${database}] argon2id verify limit, round ${round}/${ROUNDS} (${SECONDS} s, 4 in flight)… `,
    );
    const raw = await runArgon2Limit(ROOT, SECONDS);
    console.log(`${raw.verifiesPerSecond.toLocaleString("en")} verifies/s`);
    argon2.push(raw);
  }
  const signin = mergeRounds(signins).result;
  const verifies = argon2.reduce((sum, a) => sum + a.verifies, 0);
  const seconds = Math.round(argon2.reduce((sum, a) => sum + a.seconds, 0) * 1000) / 1000;
  const verifiesPerSecond = Math.round((verifies / seconds) * 10) / 10;
  const ratioPercent = percentOf(rate(signin), verifies / seconds);
  return {
    database,
    rounds: signins.map((m, i) => ({
      round: i + 1,
      signin: m.result,
      argon2: argon2[i]!,
      ratioPercent: percentOf(rate(m.result), argon2[i]!.verifies / argon2[i]!.seconds),
    })),
    overall: { signin, argon2: { verifies, seconds, verifiesPerSecond }, ratioPercent },
    goals: [
      {
        goal: `sign-in >= ${GOALS.signinPercent}% of the raw argon2id verify rate`,
        value: `${ratioPercent ?? "n/a"}%`,
        met: ratioPercent !== null && ratioPercent >= GOALS.signinPercent,
      },
    ],
  };
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
    server!,
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
    server!,
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

// ---------------------------------------------------------------------------------------------- passes

interface PassResult {
  database: DatabaseKind;
  serverBootMs: number | null;
  timingParity: Awaited<ReturnType<typeof timingParity>> | null;
  /** Every scenario's figures; the alternated ones with their rounds merged (Sesame and limit). */
  scenarios: ScenarioResult[];
  /** Start and channel beside the limit server, round by round. */
  comparisons: Comparison[];
  signin: SigninComparison | null;
  soak: SoakResult | null;
  queue: QueueSetup | null;
  timers: TimersBenchResult | null;
  serverPeakRssMiB: number | null;
  serverIdleRssMiB: number | null;
  /** PostgreSQL start: the two workers' pids and their summed VmHWM. */
  cluster: { workers: number[]; bootMs: number; peakRssMiB: number | null } | null;
}

function printServerLog(proc: Proc, database: DatabaseKind): void {
  if (proc.logLines === 0) return;
  console.log(
    `\nbench: [${database}] ${proc.label} wrote ${proc.logLines} log line(s) at warn or above; the last ones:`,
  );
  for (const line of proc.logTail) console.log(`  ${line}`);
}

/** Recovery start on PostgreSQL: two Sesame processes behind one address (bench/cluster.ts). */
async function startOnCluster(
  database: DatabaseKind,
  settings: SesameSettings,
  pass: PassResult,
): Promise<Comparison> {
  const port = await freePort();
  const t0 = performance.now();
  const cluster = startSesameCluster({ ...settings, port });
  try {
    await waitClusterReady(cluster);
    const bootMs = Math.round(performance.now() - t0);
    console.log(
      `bench: [${database}] 2 Sesame processes (pids ${cluster.measured.join(", ")}, primary ${cluster.pid}) ready at ${cluster.base} in ${bootMs} ms, same database`,
    );
    const comparison = await alternateWithLimit(
      database,
      START,
      (round) => loadStart(cluster, database, START, round),
      startGoals,
      cluster.measured.length,
    );
    pass.cluster = {
      workers: cluster.measured,
      bootMs,
      peakRssMiB: mib(sumStatusKiB(cluster.measured, "VmHWM")),
    };
    printServerLog(cluster, database);
    return comparison;
  } catch (error) {
    if (cluster.logTail.length > 0) {
      console.error("bench: last output of the two-process server:");
      for (const line of cluster.logTail) console.error(`  ${line}`);
    }
    throw error;
  } finally {
    await stopProc(cluster);
  }
}

/** One database: a fresh server on it, the HTTP scenarios, then (PostgreSQL) the timers. */
async function runPass(database: DatabaseKind): Promise<PassResult> {
  const pass: PassResult = {
    database,
    serverBootMs: null,
    timingParity: null,
    scenarios: [],
    comparisons: [],
    signin: null,
    soak: null,
    queue: null,
    timers: null,
    serverPeakRssMiB: null,
    serverIdleRssMiB: null,
    cluster: null,
  };
  const http = HTTP_SCENARIOS;
  if (http.length > 0) {
    tmpDir = mkdtempSync(join(os.tmpdir(), "sesame-bench-"));
    const sqlitePath = join(tmpDir, "bench.db");
    if (database === "postgres") pgDatabase = await createBenchDatabase(PG_URL);
    const databaseUrl = database === "postgres" ? pgDatabase!.url : `sqlite:${sqlitePath}`;
    const settings: SesameSettings = {
      root: ROOT,
      port: await freePort(),
      dataDir: tmpDir,
      databaseUrl,
      // One secret for the pass: the two-process server reads what the first one seeded.
      secret: randomBytes(32).toString("hex"),
      apiToken: API_TOKEN,
      nodeArgs: SERVER_ARGS,
    };
    const bootT0 = performance.now();
    server = startSesame(settings);
    try {
      await waitSesameReady(server);
      pass.serverBootMs = Math.round(performance.now() - bootT0);
      console.log(
        `bench: [${database}] server pid ${server.pid} (node dist/main.js serve) ready at ${server.base} in ${pass.serverBootMs} ms (${database === "postgres" ? `database ${new URL(databaseUrl).pathname.slice(1)}` : `db in ${tmpDir}`})`,
      );
      benchDb =
        database === "postgres" ? await openPostgresBenchDb(databaseUrl) : openSqliteBenchDb(sqlitePath);

      if (http.some((s) => s === "start" || s === "channel" || s === "signin" || s === "soak")) {
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
      if (http.includes("start")) {
        const comparison =
          database === "postgres"
            ? await startOnCluster(database, settings, pass)
            : await alternateWithLimit(
                database,
                START,
                (round) => loadStart(server!, database, START, round),
                startGoals,
              );
        pass.comparisons.push(comparison);
        pass.scenarios.push(comparison.overall.sesame, comparison.overall.limit);
      }
      if (http.includes("channel")) {
        const t0 = performance.now();
        const started = await startRecoveries(RECOVERIES);
        console.log(`bench: started ${RECOVERIES} recoveries in ${Math.round(performance.now() - t0)} ms`);
        const comparison = await alternateWithLimit(
          database,
          CHANNEL,
          (round) => loadChannel(database, started, round),
          channelGoals,
        );
        pass.comparisons.push(comparison);
        pass.scenarios.push(comparison.overall.sesame, comparison.overall.limit);
      }
      if (http.includes("signin")) {
        pass.signin = await signinAgainstArgon2(database);
        pass.scenarios.push(pass.signin.overall.signin);
      }
      if (http.includes("intake")) pass.scenarios.push(await scenarioIntake(database, benchDb!));
      if (http.includes("queue")) {
        const { result, setup } = await scenarioQueue(database, benchDb!);
        pass.scenarios.push(result);
        pass.queue = setup;
      }
      if (http.includes("soak")) {
        console.log(
          `bench: [${database}] soak: recovery starts at ${SOAK_RATE}/s for ${SOAK_SECONDS} s (${CONNECTIONS} connections)…`,
        );
        pass.soak = await runSoak(server, {
          database,
          rate: SOAK_RATE,
          seconds: SOAK_SECONDS,
          connections: CONNECTIONS,
          route: "/api/v1/recovery",
          expectedStatus: 201,
          body: (n) => JSON.stringify({ address: mixedAddresses[n % mixedAddresses.length] }),
        });
      }
      pass.serverPeakRssMiB = mib(procStatusKiB(server.pid, "VmHWM"));
      printServerLog(server, database);
    } catch (error) {
      if (server && server.logTail.length > 0) {
        console.error("bench: last server output:");
        for (const line of server.logTail) console.error(`  ${line}`);
      }
      throw error;
    } finally {
      await closeBenchDb();
      await stopProc(server);
      server = null;
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

/** Recovery start on SQLite (one process) beside PostgreSQL (two processes), each against the limit. */
function printStartAcrossDatabases(passes: PassResult[]): void {
  const starts = passes.flatMap((p) => p.comparisons.filter((c) => c.scenario === START));
  if (!starts.some((c) => c.database === "postgres")) return;
  console.log(
    "recovery start, SQLite (1 process) beside PostgreSQL (2 processes), the same limit server (SQLite):",
  );
  for (const c of starts)
    console.log(
      `  [${c.database}] ${c.overall.sesame.server}: ${c.overall.sesame.requestsPerSecond.toLocaleString("en")} req/s, ${c.overall.ratioPercent ?? "n/a"}% of the limit (${c.overall.limit.requestsPerSecond.toLocaleString("en")} req/s), p99 ${c.overall.sesame.latencyP99Ms} ms, RSS max ${c.overall.sesame.serverPeakRssMiB ?? "n/a"} MiB`,
    );
  if (!starts.some((c) => c.database === "sqlite"))
    console.log("  (SQLite not measured in this run: BENCH_DATABASE=both puts both in one run)");
}

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    console.error(`\nbench: gave up after ${Math.round(DEADLINE_MS / 1000)} s`);
    void stopEverything().finally(() => process.exit(124));
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
    if (HTTP_SCENARIOS.length > 0) buildForBench(ROOT);
    for (const database of DATABASES) passes.push(await runPass(database));
  } finally {
    clearTimeout(deadline);
    await stopProc(limit);
    limit = null;
    removeLimitDir();
  }

  const results = passes.flatMap((p) => p.scenarios);
  console.log();
  if (results.length > 0) printTable(results);
  for (const p of passes) {
    for (const c of p.comparisons) {
      console.log();
      printComparison(c);
    }
    if (p.signin) {
      console.log();
      printSignin(p.signin);
    }
  }
  if (passes.some((p) => p.comparisons.length > 0)) {
    console.log();
    printStartAcrossDatabases(passes);
  }
  for (const p of passes) {
    if (!p.soak) continue;
    console.log();
    printSoak(p.soak);
  }
  console.log();
  for (const r of results) {
    const codes = Object.entries(r.statusCodes)
      .map(([code, n]) => `${code}×${n}`)
      .join(", ");
    const verdict =
      r.unexpectedStatus === 0 && r.errors === 0 && r.checks?.ok !== false ? "ok" : "UNEXPECTED";
    console.log(
      `  [${r.database}] ${r.server}: ${r.scenario}: ${r.totalRequests} requests, statuses ${codes || "none"} (expected ${r.expectedStatus})${r.checks ? `; ${r.checks.note}` : ""}: ${verdict}; RSS during the load max ${r.serverPeakRssMiB ?? "n/a"} / mean ${r.serverMeanRssMiB ?? "n/a"} MiB`,
    );
  }
  for (const p of passes) {
    if (p.queue)
      console.log(
        `  [${p.database}] queue data: ${p.queue.insertedCases.toLocaleString("en")} cases inserted in ${p.queue.insertSeconds} s (${QUEUE_MIX.open}% open, ${QUEUE_MIX.waiting}% waiting, the rest resolved, over ${p.queue.teams.length} teams); ${p.queue.casesInDatabase.toLocaleString("en")} in the database`,
      );
    if (p.serverBootMs !== null)
      console.log(
        `  [${p.database}] server peak RSS (VmHWM, whole run incl. seeding): ${p.serverPeakRssMiB ?? "n/a"} MiB (idle before the load: ${p.serverIdleRssMiB ?? "n/a"} MiB)`,
      );
    if (p.cluster)
      console.log(
        `  [${p.database}] 2 processes (pids ${p.cluster.workers.join(", ")}): peak RSS (VmHWM) summed ${p.cluster.peakRssMiB ?? "n/a"} MiB`,
      );
    for (const r of p.signin?.rounds ?? [])
      if (r.argon2.failures > 0)
        console.log(
          `  [${p.database}] argon2id limit round ${r.round}: ${r.argon2.failures} verifies FAILED`,
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
  const argon2Failed = passes.some((p) => p.signin?.rounds.some((r) => r.argon2.failures > 0));
  const soakFailed = passes.some((p) => p.soak && !p.soak.verdict.ok);
  const failed =
    timersFailed ||
    argon2Failed ||
    soakFailed ||
    results.some((r) => r.unexpectedStatus > 0 || r.errors > 0 || r.checks?.ok === false);
  if (JSON_PATH) {
    const report = {
      at: new Date().toISOString(),
      settings: {
        seconds: SECONDS,
        rounds: ROUNDS,
        connections: CONNECTIONS,
        queueConnections: QUEUE_CONNECTIONS,
        accounts: ACCOUNTS,
        unknownAddresses: ACCOUNTS,
        recoveriesForChannel: SCENARIOS.includes("channel") ? RECOVERIES : 0,
        queueCases: SCENARIOS.includes("queue") ? QUEUE_CASES : 0,
        timers: SCENARIOS.includes("timers") ? TIMERS : 0,
        soak: SCENARIOS.includes("soak") ? { rate: SOAK_RATE, seconds: SOAK_SECONDS } : null,
        server: `node ${[...SERVER_ARGS, "dist/main.js", "serve"].join(" ")}`,
        limitServer:
          "bench/limit-server.ts (node:http + better-sqlite3, one insert, WAL, synchronous=NORMAL)",
        requestsPerSecond:
          "responses / autocannon's duration; rounds merged as sum of responses / sum of durations",
        rss: "VmRSS sampled every 100 ms while autocannon runs (sum of the workers for 2 processes)",
        goals: GOALS,
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
