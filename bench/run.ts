/**
 * Load benchmark of the public hot paths: `npm run bench`.
 *
 * Starts the real server (tsx on src/main.ts, as a child process) on 127.0.0.1 with a fresh SQLite
 * file in a temporary directory, seeds accounts through the service API, then drives autocannon
 * against: starting a recovery, choosing a channel, and signing in. Prints requests/s, p99 latency,
 * unexpected statuses and the server's peak RSS; writes JSON too when BENCH_JSON=<path> is set.
 *
 * Settings (environment):
 *   BENCH_SECONDS      seconds per scenario (default 10)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_ACCOUNTS     accounts seeded (default 200); as many unknown addresses are mixed in
 *   BENCH_RECOVERIES   recoveries started before the channel scenario (default 3000)
 *   BENCH_SCENARIOS    comma list among baseline,start,channel,signin (default all four); "baseline" is
 *                      GET /healthz, no database: the ceiling of this harness on this machine
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
const JSON_PATH = process.env.BENCH_JSON || null;
const SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? "").split(/\s+/).filter(Boolean);
const ALL_SCENARIOS = ["baseline", "start", "channel", "signin"] as const;
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
// Startup + seeding + pre-created recoveries + the scenarios, with room to spare; then we give up.
const DEADLINE_MS = 180_000 + ACCOUNTS * 500 + RECOVERIES * 20 + SCENARIOS.length * (SECONDS + 30) * 1000;

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

function startServer(port: number, dir: string): Server {
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
  ])
    delete env[name];
  // Not NODE_ENV=production: with no transport configured, production turns mail and SMS off, and
  // the channel scenario needs them captured (as the development default does, sending nothing).
  delete env.NODE_ENV;
  Object.assign(env, {
    HOST,
    PORT: String(port),
    PUBLIC_URL: `http://${HOST}:${port}`,
    DATABASE_URL: `sqlite:${join(dir, "bench.db")}`,
    SESAME_DATA_DIR: dir,
    SESAME_SECRET: randomBytes(32).toString("hex"),
    SESAME_API_TOKEN: API_TOKEN,
    SESAME_RATE_LIMIT_PER_IP: "0",
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

// Last resort if we are leaving without the orderly cleanup (uncaught error, signal, deadline).
process.on("exit", () => {
  if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
  removeTmp();
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    void stopServer().finally(() => process.exit(130));
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
  route: string;
  expectedStatus: number;
  requestsPerSecond: number;
  totalRequests: number;
  latencyP50Ms: number;
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
}

async function runScenario(
  scenario: string,
  route: string,
  expectedStatus: number,
  setupRequest: ((request: RawRequest) => RawRequest) | null,
  method: autocannon.Request["method"] = "POST",
): Promise<ScenarioResult> {
  const pid = server!.pid;
  let peakRss = procStatusKiB(pid, "VmRSS");
  const sampler = setInterval(() => {
    const rss = procStatusKiB(pid, "VmRSS");
    if (rss !== null && (peakRss === null || rss > peakRss)) peakRss = rss;
  }, 100);
  const cpu0 = procCpuSeconds(pid);
  const ownCpu0 = process.cpuUsage();
  const t0 = performance.now();
  process.stdout.write(`bench: ${scenario} (${SECONDS} s, ${CONNECTIONS} connections)… `);
  try {
    const result = await autocannon({
      url: server!.base,
      connections: CONNECTIONS,
      duration: SECONDS,
      timeout: 30,
      requests: [
        setupRequest
          ? { method, path: route, headers: { "content-type": "application/json" }, setupRequest }
          : { method, path: route },
      ],
    });
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
      route,
      expectedStatus,
      requestsPerSecond: Math.round(result.requests.average),
      totalRequests: result.requests.total,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
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

function scenarioBaseline() {
  return runScenario("baseline: GET /healthz (no db)", "/healthz", 200, null, "GET");
}

function scenarioStart() {
  let n = 0;
  return runScenario("recovery start (known+unknown)", "/api/v1/recovery", 201, (request) => ({
    ...request,
    body: JSON.stringify({ address: mixedAddresses[n++ % mixedAddresses.length] }),
  }));
}

function scenarioChannel(started: Started[]) {
  let n = 0;
  return runScenario("recovery channel (match/no match)", "/api/v1/recovery/:id/channel", 202, (request) => {
    const i = n++;
    const entry = started[i % started.length]!;
    // Alternate matching / non-matching values, shifting each lap so every recovery gets both.
    const matching = (i + Math.floor(i / started.length)) % 2 === 0;
    return {
      ...request,
      path: `/api/v1/recovery/${entry.id}/channel`,
      body: JSON.stringify({ kind: "email", value: matching ? entry.matching : entry.nonMatching }),
    };
  });
}

function scenarioSignin() {
  let n = 0;
  return runScenario("sign-in (argon2id verify)", "/api/v1/signin", 200, (request) => {
    const account = accounts[n++ % accounts.length]!;
    return { ...request, body: JSON.stringify({ address: account.address, password: account.password }) };
  });
}

// ---------------------------------------------------------------------------------------------- report

function printTable(rows: ScenarioResult[]): void {
  const header = [
    "scenario",
    "req/s (avg)",
    "p50 ms",
    "p99 ms",
    "non-2xx",
    "errors",
    "timeouts",
    "server CPU",
    "autocannon CPU",
  ];
  const body = rows.map((r) => [
    r.scenario,
    String(r.requestsPerSecond),
    String(r.latencyP50Ms),
    String(r.latencyP99Ms),
    String(r.non2xx),
    String(r.errors),
    String(r.timeouts),
    r.serverCpuPercent === null ? "n/a" : `${r.serverCpuPercent}%`,
    `${r.loadGeneratorCpuPercent}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of body) console.log(line(row));
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    console.error(`\nbench: gave up after ${Math.round(DEADLINE_MS / 1000)} s`);
    void stopServer().finally(() => process.exit(124));
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

  tmpDir = mkdtempSync(join(os.tmpdir(), "sesame-bench-"));
  const port = await freePort();
  const bootT0 = performance.now();
  server = startServer(port, tmpDir);
  try {
    await waitReady(server);
    const bootMs = Math.round(performance.now() - bootT0);
    console.log(`bench: server pid ${server.pid} ready at ${server.base} in ${bootMs} ms (db in ${tmpDir})`);

    let t0 = performance.now();
    await seedAccounts();
    console.log(`bench: seeded ${ACCOUNTS} accounts in ${Math.round(performance.now() - t0)} ms`);
    const idleRssMiB = mib(procStatusKiB(server.pid, "VmRSS"));

    const parity = await timingParity(200);
    console.log(
      `bench: recovery start, quiet server, sequential: known p50 ${parity.knownMs.p50} ms / p90 ${parity.knownMs.p90} ms; unknown p50 ${parity.unknownMs.p50} ms / p90 ${parity.unknownMs.p90} ms`,
    );

    const results: ScenarioResult[] = [];
    if (SCENARIOS.includes("baseline")) results.push(await scenarioBaseline());
    if (SCENARIOS.includes("start")) results.push(await scenarioStart());
    if (SCENARIOS.includes("channel")) {
      t0 = performance.now();
      const started = await startRecoveries(RECOVERIES);
      console.log(`bench: started ${RECOVERIES} recoveries in ${Math.round(performance.now() - t0)} ms`);
      results.push(await scenarioChannel(started));
    }
    if (SCENARIOS.includes("signin")) results.push(await scenarioSignin());

    const peakRssMiB = mib(procStatusKiB(server.pid, "VmHWM"));
    console.log();
    printTable(results);
    console.log();
    for (const r of results) {
      const codes = Object.entries(r.statusCodes)
        .map(([code, n]) => `${code}×${n}`)
        .join(", ");
      const verdict = r.unexpectedStatus === 0 && r.errors === 0 ? "ok" : "UNEXPECTED";
      console.log(
        `  ${r.scenario}: ${r.totalRequests} requests, statuses ${codes || "none"} (expected ${r.expectedStatus}): ${verdict}; peak RSS during run ${r.serverPeakRssMiB ?? "n/a"} MiB`,
      );
    }
    console.log();
    console.log(
      `server peak RSS (VmHWM): ${peakRssMiB ?? "n/a"} MiB (idle after seeding: ${idleRssMiB ?? "n/a"} MiB)`,
    );
    console.log(
      `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.totalMemoryGiB} GiB RAM, node ${machine.node}, ${machine.os}; load average ${machine.loadAverageAtStart} at start, ${Math.round(os.loadavg()[0]! * 100) / 100} at end`,
    );
    console.log(
      `note: autocannon runs on the same machine and competes with the server for the ${machine.cores} cores (CPU: 100% = one core).`,
    );
    if (server.logLines > 0) {
      console.log(`\nserver wrote ${server.logLines} log line(s) at warn or above; the last ones:`);
      for (const line of server.logTail) console.log(`  ${line}`);
    }

    const failed = results.some((r) => r.unexpectedStatus > 0 || r.errors > 0);
    if (JSON_PATH) {
      const report = {
        at: new Date().toISOString(),
        settings: {
          seconds: SECONDS,
          connections: CONNECTIONS,
          accounts: ACCOUNTS,
          unknownAddresses: ACCOUNTS,
          recoveriesForChannel: SCENARIOS.includes("channel") ? RECOVERIES : 0,
          database: "sqlite (file, WAL)",
        },
        machine,
        serverBootMs: bootMs,
        timingParity: parity,
        scenarios: results,
        serverPeakRssMiB: peakRssMiB,
        serverIdleRssMiB: idleRssMiB,
        ok: !failed,
      };
      writeFileSync(JSON_PATH, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`\nbench: wrote ${JSON_PATH}`);
    }
    return failed ? 1 : 0;
  } catch (error) {
    if (server && server.logTail.length > 0) {
      console.error("bench: last server output:");
      for (const line of server.logTail) console.error(`  ${line}`);
    }
    throw error;
  } finally {
    clearTimeout(deadline);
    await stopServer();
    removeTmp();
  }
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
