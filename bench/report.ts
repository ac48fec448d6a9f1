/**
 * What bench/run.ts measures and prints: the per-scenario results, Sesame beside the limit server
 * (round by round, then overall) with the goals, sign-in beside raw argon2id, the soak.
 */
import type { Argon2Limit } from "./servers.js";
import { SOAK_WINDOW_SECONDS, type SoakResult } from "./soak.js";

export type DatabaseKind = "sqlite" | "postgres";

export interface ScenarioResult {
  scenario: string;
  database: DatabaseKind;
  /** The server loaded: "sesame", "sesame ×2" (two processes behind one port) or "limit (SQLite)". */
  server: string;
  /** Round of an alternation (1, 2, …); null for a single run or rounds merged. */
  round: number | null;
  route: string;
  expectedStatus: number;
  connections: number;
  /** autocannon's measured duration (summed over merged rounds). */
  seconds: number;
  /** Responses over seconds: all responses received, whatever their status. */
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
  /** Largest VmRSS sample (MiB) while autocannon ran; summed over a cluster's workers. */
  serverPeakRssMiB: number | null;
  /** Mean of the VmRSS samples (every 100 ms) while autocannon ran. */
  serverMeanRssMiB: number | null;
  rssSamples: number;
  serverCpuPercent: number | null;
  /** CPU of this process (autocannon), which shares the machine with the server. */
  loadGeneratorCpuPercent: number;
  /**
   * CPU seconds of the server's main thread (summed over a cluster's workers) during the load:
   * per request, the figure to compare between two versions, steadier than requests/s on a host
   * whose speed drifts.
   */
  mainThreadCpuSeconds: number | null;
  /** What the scenario checked beyond the statuses (e.g. rows written), and whether it held. */
  checks?: { note: string; ok: boolean };
}

export interface Goal {
  goal: string;
  value: string;
  met: boolean;
}

/** One scenario of Sesame in alternation with the limit server (A B A B). */
export interface Comparison {
  database: DatabaseKind;
  scenario: string;
  rounds: Array<{
    round: number;
    sesame: ScenarioResult;
    limit: ScenarioResult;
    ratioPercent: number | null;
  }>;
  /** The rounds merged: requests/s = sum of requests / sum of seconds, p99 over every response. */
  overall: { sesame: ScenarioResult; limit: ScenarioResult; ratioPercent: number | null };
  goals: Goal[];
}

/** Sign-in in alternation with the raw argon2id verify rate (bench/argon2-limit.ts). */
export interface SigninComparison {
  database: DatabaseKind;
  rounds: Array<{ round: number; signin: ScenarioResult; argon2: Argon2Limit; ratioPercent: number | null }>;
  overall: {
    signin: ScenarioResult;
    argon2: { verifies: number; seconds: number; verifiesPerSecond: number };
    ratioPercent: number | null;
  };
  goals: Goal[];
}

// ---------------------------------------------------------------------------------------------- goals

export const GOALS = {
  startPercent: 50,
  channelPercent: 35,
  p99Ms: 50,
  rssMB: 150,
  signinPercent: 90,
} as const;

export const percentOf = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 10 : null);
const MB = (miB: number) => Math.round(((miB * 1024 * 1024) / 1e6) * 10) / 10;

export function ratioGoal(name: string, ratio: number | null, min: number): Goal {
  return {
    goal: `${name} >= ${min}% of the limit`,
    value: `${ratio ?? "n/a"}%`,
    met: ratio !== null && ratio >= min,
  };
}

export function p99Goal(p99: number): Goal {
  return { goal: `p99 <= ${GOALS.p99Ms} ms`, value: `${p99} ms`, met: p99 <= GOALS.p99Ms };
}

/** The goal is per process: a cluster's sum is divided by its processes. */
export function rssGoal(maxMiB: number | null, processes = 1): Goal {
  if (maxMiB === null) return { goal: `RSS under load <= ${GOALS.rssMB} MB`, value: "n/a", met: false };
  const each = maxMiB / processes;
  return {
    goal: `RSS under load <= ${GOALS.rssMB} MB${processes > 1 ? " per process" : ""}`,
    value:
      processes > 1
        ? `max ${maxMiB} MiB for ${processes} processes, ${Math.round(each * 10) / 10} MiB = ${MB(each)} MB each`
        : `max ${maxMiB} MiB = ${MB(maxMiB)} MB`,
    met: MB(each) <= GOALS.rssMB,
  };
}

// ---------------------------------------------------------------------------------------------- tables

const n = (x: number | null) => (x === null ? "n/a" : x.toLocaleString("en"));

function printRows(header: string[], body: string[][], leftColumns: number): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of body) console.log(line(row));
}

export function printTable(rows: ScenarioResult[]): void {
  printRows(
    [
      "database",
      "server",
      "scenario",
      "conns",
      "seconds",
      "req/s",
      "p50 ms",
      "p95 ms",
      "p99 ms",
      "non-2xx",
      "errors",
      "timeouts",
      "RSS max/mean MiB",
      "server CPU",
      "main thread µs/req",
      "autocannon CPU",
    ],
    rows.map((r) => [
      r.database,
      r.server,
      r.scenario,
      String(r.connections),
      String(r.seconds),
      n(r.requestsPerSecond),
      String(r.latencyP50Ms),
      String(r.latencyP95Ms),
      String(r.latencyP99Ms),
      String(r.non2xx),
      String(r.errors),
      String(r.timeouts),
      `${r.serverPeakRssMiB ?? "n/a"} / ${r.serverMeanRssMiB ?? "n/a"}`,
      r.serverCpuPercent === null ? "n/a" : `${r.serverCpuPercent}%`,
      mainThreadMicrosPerRequest(r),
      `${r.loadGeneratorCpuPercent}%`,
    ]),
    3,
  );
}

/** Main-thread CPU per response, µs (USER_HZ ticks: 10 ms a tick, so long rounds only). */
const mainThreadMicrosPerRequest = (r: ScenarioResult) =>
  r.mainThreadCpuSeconds === null || r.totalRequests === 0
    ? "n/a"
    : n(Math.round((r.mainThreadCpuSeconds / r.totalRequests) * 1e6));

const rss = (r: ScenarioResult) => `${r.serverPeakRssMiB ?? "n/a"} / ${r.serverMeanRssMiB ?? "n/a"}`;

function printGoals(goals: Goal[]): void {
  for (const g of goals) console.log(`  goal ${g.goal}: ${g.met ? "met" : "MISSED"} (${g.value})`);
}

export function printComparison(c: Comparison): void {
  const sesame = c.overall.sesame.server;
  console.log(
    `${c.scenario} [${c.database}]: ${sesame} against the limit server (SQLite), A B A B; "all" = sum of requests / sum of seconds of the rounds, p99 over all their responses`,
  );
  const row = (label: string, s: ScenarioResult, l: ScenarioResult, ratio: number | null) => [
    label,
    n(s.requestsPerSecond),
    n(l.requestsPerSecond),
    ratio === null ? "n/a" : `${ratio}%`,
    String(s.latencyP99Ms),
    String(l.latencyP99Ms),
    rss(s),
    rss(l),
  ];
  printRows(
    [
      "round",
      `${sesame} req/s`,
      "limit req/s",
      "ratio",
      `${sesame} p99 ms`,
      "limit p99 ms",
      `${sesame} RSS max/mean MiB`,
      "limit RSS max/mean MiB",
    ],
    [
      ...c.rounds.map((r) => row(String(r.round), r.sesame, r.limit, r.ratioPercent)),
      row("all", c.overall.sesame, c.overall.limit, c.overall.ratioPercent),
    ],
    1,
  );
  printGoals(c.goals);
}

export function printSignin(c: SigninComparison): void {
  console.log(
    `sign-in [${c.database}]: sesame against the raw argon2id verify rate (bench/argon2-limit.ts, ${c.rounds[0]?.argon2.inFlight ?? 4} in flight, m=${c.rounds[0]?.argon2.params.m} KiB t=${c.rounds[0]?.argon2.params.t} p=${c.rounds[0]?.argon2.params.p}; Sesame idle meanwhile), A B A B; "all" = sum over sum`,
  );
  const row = (label: string, s: ScenarioResult, verifiesPerSecond: number, ratio: number | null) => [
    label,
    n(s.requestsPerSecond),
    n(verifiesPerSecond),
    ratio === null ? "n/a" : `${ratio}%`,
    String(s.latencyP99Ms),
    rss(s),
  ];
  printRows(
    ["round", "sign-in req/s", "argon2id verifies/s", "ratio", "sign-in p99 ms", "sesame RSS max/mean MiB"],
    [
      ...c.rounds.map((r) => row(String(r.round), r.signin, r.argon2.verifiesPerSecond, r.ratioPercent)),
      row("all", c.overall.signin, c.overall.argon2.verifiesPerSecond, c.overall.ratioPercent),
    ],
    1,
  );
  printGoals(c.goals);
}

export function printSoak(s: SoakResult): void {
  console.log(
    `soak [${s.database}]: recovery starts at ${s.askedRate}/s asked, ${s.connections} connections, ${s.seconds} s; one row per ${SOAK_WINDOW_SECONDS} s window (RSS at its end)`,
  );
  printRows(
    ["t s", "requests", "p99 ms", "RSS MiB"],
    [
      ["0", "-", "-", String(s.idleRssMiB ?? "n/a")],
      ...s.samples.map((x) => [
        String(x.t),
        n(x.requests),
        String(x.p99Ms ?? "n/a"),
        String(x.rssMiB ?? "n/a"),
      ]),
    ],
    0,
  );
  const v = s.verdict;
  console.log(`  rule: ${v.rule}`);
  console.log(
    `  memory: second third ${v.secondThirdMeanRssMiB ?? "n/a"} MiB, last third ${v.lastThirdMeanRssMiB ?? "n/a"} MiB, growth ${v.growthMiB ?? "n/a"} MiB (${v.growthPercent ?? "n/a"}%): ${v.flat ? "flat" : "NOT FLAT"}`,
  );
  const codes = Object.entries(s.statusCodes)
    .map(([code, count]) => `${code}×${count}`)
    .join(", ");
  console.log(
    `  rate: ${n(s.achievedRate)}/s achieved of ${s.askedRate}/s asked (${percentOf(s.achievedRate, s.askedRate)}%), ${n(s.totalRequests)} requests, statuses ${codes || "none"} (expected ${s.expectedStatus}), ${s.errors} errors, ${s.timeouts} timeouts`,
  );
  const kept = percentOf(s.achievedRate, s.askedRate);
  if (kept !== null && kept < 95)
    console.log(
      `  note: the server did not keep up with the asked rate (${kept}%): these figures are at ${n(s.achievedRate)}/s, not ${s.askedRate}/s`,
    );
  console.log(`  soak: ${v.ok ? "ok" : "FAILED"}`);
}
