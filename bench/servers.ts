/**
 * The processes bench/run.ts measures: the compiled Sesame server, two of them behind one address
 * (bench/cluster.ts), the limit server (bench/limit-server.ts) and the raw argon2id rate
 * (bench/argon2-limit.ts); building them, starting, stopping, and reading their memory and CPU
 * from /proc (Linux).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import ts from "typescript";

export const HOST = "127.0.0.1"; // the only host the bench ever talks to

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
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

// ---------------------------------------------------------------------------------------------- /proc

/** A field of /proc/<pid>/status in KiB (Linux only; null elsewhere or once the process is gone). */
export function procStatusKiB(pid: number, field: "VmRSS" | "VmHWM"): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The sum of a field over several processes; null if any of them cannot be read. */
export function sumStatusKiB(pids: number[], field: "VmRSS" | "VmHWM"): number | null {
  let sum = 0;
  for (const pid of pids) {
    const kib = procStatusKiB(pid, field);
    if (kib === null) return null;
    sum += kib;
  }
  return sum;
}

/**
 * CPU seconds (user + system) the processes have used so far (Linux only), or their main threads
 * only: the thread that runs JavaScript, HTTP and SQLite, not the hashing threads nor V8's own.
 */
export function procCpuSeconds(pids: number[], mainThreadOnly = false): number | null {
  let sum = 0;
  for (const pid of pids) {
    try {
      // A process's main thread is the task whose id is the pid.
      const stat = readFileSync(
        mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`,
        "utf8",
      );
      // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      if (!Number.isFinite(ticks)) return null;
      sum += ticks / 100; // USER_HZ is 100 on Linux
    } catch {
      return null;
    }
  }
  return sum;
}

export const mib = (kib: number | null) => (kib === null ? null : Math.round((kib / 1024) * 10) / 10);

export interface MemorySamples {
  /** Largest sample, MiB. */
  maxMiB: number | null;
  /** Mean of the samples, MiB. */
  meanMiB: number | null;
  samples: number;
}

/**
 * Samples the resident memory (VmRSS, summed over `pids`) every `everyMs` from now until stop():
 * started as the load starts and stopped as it ends, so it sees the load only (the first sample is
 * taken `everyMs` in, none at the stop; one at the stop only if the interval never fired).
 */
export function sampleMemory(pids: number[], everyMs = 100): { stop(): MemorySamples } {
  let max = 0;
  let sum = 0;
  let n = 0;
  const take = () => {
    const kib = sumStatusKiB(pids, "VmRSS");
    if (kib === null) return;
    max = Math.max(max, kib);
    sum += kib;
    n++;
  };
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      if (n === 0) take();
      return n === 0
        ? { maxMiB: null, meanMiB: null, samples: 0 }
        : { maxMiB: mib(max), meanMiB: mib(sum / n), samples: n };
    },
  };
}

// ---------------------------------------------------------------------------------------------- build

/**
 * `npm run build` (src/ to dist/, as production runs it), once, synchronously; then the bench's
 * own child scripts transpiled to plain JavaScript in dist/bench/ (no tsx loader in the processes
 * whose memory is read). Throws with the reason if either fails.
 */
export function buildForBench(root: string): void {
  console.log("bench: npm run build (the server runs as compiled JavaScript, dist/main.js)…");
  const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (build.error || build.status !== 0)
    throw new Error(
      `"npm run build" failed (${build.error ? build.error.message : `exit ${build.status ?? build.signal}`}): the bench measures the compiled server, dist/main.js; fix the build first`,
    );
  mkdirSync(join(root, "dist", "bench"), { recursive: true });
  for (const name of ["limit-server", "cluster"]) {
    const source = readFileSync(join(root, "bench", `${name}.ts`), "utf8");
    const { outputText, diagnostics } = ts.transpileModule(source, {
      fileName: `${name}.ts`,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    if (diagnostics && diagnostics.length > 0)
      throw new Error(
        `bench/${name}.ts: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, "\n")}`,
      );
    writeFileSync(join(root, "dist", "bench", `${name}.mjs`), outputText);
  }
}

// ---------------------------------------------------------------------------------------------- processes

export interface Proc {
  /** What it is, for the output: "sesame", "sesame ×2", "limit (SQLite)". */
  label: string;
  child: ChildProcess;
  pid: number;
  base: string;
  /** The pids whose memory and CPU are this server's: the process itself, or a cluster's workers. */
  measured: number[];
  /** Its "ready" line was printed (the limit server, the cluster). */
  announced: boolean;
  /** The server's own log (warn and above for Sesame), not the bench's bookkeeping lines. */
  logTail: string[];
  logLines: number;
  exited: Promise<number | null>;
}

const live = new Set<Proc>();

function launch(
  label: string,
  args: string[],
  root: string,
  env: NodeJS.ProcessEnv,
  port: number,
  /** Sees each line first; true: a bookkeeping line of the bench, left out of the log. */
  onLine?: (line: string, proc: Proc) => boolean,
): Proc {
  // node itself (not npx or a shell) so that the pid is the server's, for the memory readings.
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`could not start ${label}`);
  const proc: Proc = {
    label,
    child,
    pid: child.pid,
    base: `http://${HOST}:${port}`,
    measured: [child.pid],
    announced: false,
    logTail: [],
    logLines: 0,
    exited: new Promise((r) => child.once("exit", (code) => r(code))),
  };
  const keeper = () => {
    let pending = ""; // a line cut between two chunks
    return (chunk: Buffer) => {
      const lines = (pending + chunk.toString("utf8")).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        if (onLine?.(line, proc)) continue;
        proc.logLines++;
        proc.logTail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
        if (proc.logTail.length > 20) proc.logTail.shift();
      }
    };
  };
  child.stdout?.on("data", keeper());
  child.stderr?.on("data", keeper());
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  return proc;
}

export interface SesameSettings {
  root: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  secret: string;
  apiToken: string;
  /** Extra node flags (BENCH_SERVER_ARGS). */
  nodeArgs: string[];
}

function sesameEnv(s: SesameSettings): NodeJS.ProcessEnv {
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
    PORT: String(s.port),
    PUBLIC_URL: `http://${HOST}:${s.port}`,
    DATABASE_URL: s.databaseUrl,
    SESAME_DATA_DIR: s.dataDir,
    SESAME_SECRET: s.secret,
    SESAME_API_TOKEN: s.apiToken,
    SESAME_RATE_LIMIT_PER_IP: "0",
    // No Prometheus listener: its fixed port would clash between passes, servers and workers.
    METRICS_PORT: "0",
    SESAME_RECOVERIES_PER_ACCOUNT_PER_HOUR: "100000000",
    SESAME_CODES_PER_ACCOUNT_PER_HOUR: "100000000",
    LOG_LEVEL: "warn",
  });
  return env;
}

/**
 * The node flags of the production start, read from package.json's start script (`node <flags>
 * bin/sesame.js serve --demo`), so the bench runs the server as `npm start` does.
 */
export function startScriptNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  const words = String(pkg.scripts.start).split(/\s+/);
  return words.slice(1, words.indexOf("bin/sesame.js")).filter((word) => word.startsWith("--"));
}

/** The compiled server, `node [flags] dist/main.js serve`. */
export function startSesame(s: SesameSettings): Proc {
  return launch("sesame", [...s.nodeArgs, "dist/main.js", "serve"], s.root, sesameEnv(s), s.port);
}

/** Two compiled servers behind one port (bench/cluster.ts); `measured` becomes the workers' pids once ready. */
export function startSesameCluster(s: SesameSettings): Proc {
  return launch(
    "sesame ×2",
    ["dist/bench/cluster.mjs", ...s.nodeArgs],
    s.root,
    sesameEnv(s),
    s.port,
    (line, proc) => {
      const ready = /^cluster: ready, workers ([\d,]+)$/.exec(line.trim());
      if (ready) {
        proc.measured = ready[1]!.split(",").map(Number);
        proc.announced = true;
      }
      // The primary's migration ("sesame: database is up to date") is no warning either.
      return ready !== null || line.trim() === "sesame: database is up to date";
    },
  );
}

/** The limit server (bench/limit-server.ts, transpiled), on its own SQLite file. */
export function startLimit(root: string, port: number, databasePath: string): Proc {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST, PORT: String(port), DATABASE_PATH: databasePath };
  delete env.NODE_OPTIONS;
  return launch("limit (SQLite)", ["dist/bench/limit-server.mjs"], root, env, port, (line, proc) => {
    const listening = line.startsWith("limit-server: listening");
    if (listening) proc.announced = true;
    return listening;
  });
}

/** Waits until `ready()` holds, polling; throws if the process exits first or after the timeout. */
async function waitFor(proc: Proc, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < until) {
    if (exitCode !== undefined)
      throw new Error(`${proc.label} (pid ${proc.pid}) exited (code ${exitCode}) before it was ready`);
    if (await ready()) return;
    await sleep(100);
  }
  throw new Error(`${proc.label} was not ready within ${timeoutMs / 1000} s`);
}

async function answers(url: string, status: number): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === status;
  } catch {
    return false; // not listening yet
  }
}

/** Sesame (one process): /readyz answers 200. */
export const waitSesameReady = (proc: Proc, timeoutMs = 60_000) =>
  waitFor(proc, () => answers(`${proc.base}/readyz`, 200), timeoutMs);

/** The cluster: every worker listens (its "ready" line) and /readyz answers 200. */
export const waitClusterReady = (proc: Proc, timeoutMs = 90_000) =>
  waitFor(proc, async () => proc.announced && (await answers(`${proc.base}/readyz`, 200)), timeoutMs);

/** The limit server: its "listening" line. */
export const waitLimitReady = (proc: Proc, timeoutMs = 30_000) =>
  waitFor(proc, async () => proc.announced, timeoutMs);

export async function stopProc(proc: Proc | null): Promise<void> {
  if (!proc) return;
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill("SIGTERM");
    const ended = await Promise.race([proc.exited.then(() => true), sleep(12_000).then(() => false)]);
    if (!ended) {
      proc.child.kill("SIGKILL");
      await Promise.race([proc.exited, sleep(2_000)]);
    }
  }
  live.delete(proc);
}

/** The argon2id limit while it runs (stopped with the rest on exit). */
let argon2Child: ChildProcess | null = null;

/** Last resort (process exit): SIGKILL what we started and is still running, by pid. */
export function killLiveNow(): void {
  if (argon2Child && argon2Child.exitCode === null) argon2Child.kill("SIGKILL");
  for (const proc of live) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) continue;
    proc.child.kill("SIGKILL");
    // A cluster's workers stop when their primary's channel closes; by pid in case they did not yet.
    for (const pid of proc.measured)
      if (pid !== proc.pid)
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
  }
}

/** Every process still running, for an orderly stop. */
export const liveProcs = (): Proc[] => [...live];

// ---------------------------------------------------------------------------------------------- argon2id

export interface Argon2Limit {
  verifies: number;
  failures: number;
  seconds: number;
  verifiesPerSecond: number;
  inFlight: number;
  params: { m: number; t: number; p: number };
}

/** bench/argon2-limit.ts as a child process (tsx: it imports Sesame's hashing from src/). */
export async function runArgon2Limit(root: string, seconds: number): Promise<Argon2Limit> {
  // libuv's default pool whatever the caller's environment: the limit is four verifies on it.
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_SECONDS: String(seconds), UV_THREADPOOL_SIZE: "4" };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ["--import", "tsx", "bench/argon2-limit.ts"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  argon2Child = child;
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString("utf8");
  });
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  argon2Child = null;
  const last = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !last.startsWith("{"))
    throw new Error(`bench/argon2-limit.ts failed (exit ${code}): ${(err || out).trim().slice(0, 500)}`);
  return JSON.parse(last) as Argon2Limit;
}
