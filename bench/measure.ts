/**
 * One autocannon run against one server (Sesame, two of them, or the limit server), with the
 * server's memory sampled while the load runs and every response time kept; and rounds of the same
 * server merged.
 */
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import type { DatabaseKind, ScenarioResult } from "./report.js";
import { type Proc, procCpuSeconds, sampleMemory } from "./servers.js";

/** Percentile of response times (ms, one decimal), nearest-rank. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[rank]! * 10) / 10;
}

export interface MeasureSpec {
  database: DatabaseKind;
  scenario: string;
  route: string;
  expectedStatus: number;
  /** Sets each request's path and body; null: the same request every time. */
  setupRequest: ((request: autocannon.Request) => autocannon.Request) | null;
  seconds: number;
  connections: number;
  method?: autocannon.Request["method"];
  headers?: Record<string, string>;
  /** Round of an alternation and how many there are, for the output. */
  round?: number;
  rounds?: number;
}

/** One autocannon run, with every response time kept (percentiles of merged rounds). */
export interface Measured {
  result: ScenarioResult;
  /** Every response time, sorted. */
  times: Float64Array;
}

export async function measure(target: Proc, spec: MeasureSpec): Promise<Measured> {
  const { database, scenario, route, expectedStatus, setupRequest, connections } = spec;
  const method = spec.method ?? "POST";
  const headers = {
    ...(setupRequest && method !== "GET" ? { "content-type": "application/json" } : {}),
    ...spec.headers,
  };
  const pids = target.measured;
  process.stdout.write(
    `bench: [${database}] ${target.label}: ${scenario}${spec.round ? `, round ${spec.round}/${spec.rounds ?? spec.round}` : ""} (${spec.seconds} s, ${connections} connections)… `,
  );
  // Memory is sampled every 100 ms while autocannon runs: the load only (not seeding, not idle).
  const memory = sampleMemory(pids, 100);
  const cpu0 = procCpuSeconds(pids);
  const mainCpu0 = procCpuSeconds(pids, true);
  const ownCpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rss: ReturnType<typeof memory.stop> | null = null;
  try {
    const run = autocannon({
      url: target.base,
      connections,
      duration: spec.seconds,
      timeout: 30,
      requests: [
        setupRequest ? { method, path: route, headers, setupRequest } : { method, path: route, headers },
      ],
    }) as unknown as Promise<autocannon.Result> & NodeJS.EventEmitter;
    // Every response time, for percentiles autocannon does not give (p95) and for merging rounds.
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
    rss = memory.stop();
    const sorted = times.slice(0, count).sort();
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = procCpuSeconds(pids);
    const mainCpu1 = procCpuSeconds(pids, true);
    const ownCpu = process.cpuUsage(ownCpu0);
    const statusCodes: Record<string, number> = {};
    for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {}))
      statusCodes[code] = Number(count);
    const unexpected = Object.entries(statusCodes)
      .filter(([code]) => Number(code) !== expectedStatus)
      .reduce((sum, [, n]) => sum + n, 0);
    const requestsPerSecond = Math.round((result.requests.total / result.duration) * 10) / 10;
    console.log(`${requestsPerSecond.toLocaleString("en")} req/s`);
    return {
      times: sorted,
      result: {
        scenario,
        database,
        server: target.label,
        round: spec.round ?? null,
        route,
        expectedStatus,
        connections,
        seconds: result.duration,
        requestsPerSecond,
        totalRequests: result.requests.total,
        latencyP50Ms: percentile(sorted, 50),
        latencyP95Ms: percentile(sorted, 95),
        latencyP99Ms: percentile(sorted, 99),
        non2xx: result.non2xx,
        unexpectedStatus: unexpected,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodes,
        serverPeakRssMiB: rss.maxMiB,
        serverMeanRssMiB: rss.meanMiB,
        rssSamples: rss.samples,
        serverCpuPercent: cpu0 !== null && cpu1 !== null ? Math.round(((cpu1 - cpu0) / elapsed) * 100) : null,
        loadGeneratorCpuPercent: Math.round((ownCpu.user + ownCpu.system) / 1e4 / elapsed),
        mainThreadCpuSeconds: mainCpu0 !== null && mainCpu1 !== null ? mainCpu1 - mainCpu0 : null,
      },
    };
  } finally {
    if (!rss) memory.stop();
  }
}

/** Responses per second, unrounded (the ratios are computed from it). */
export const rate = (r: ScenarioResult) => r.totalRequests / r.seconds;

/**
 * Rounds of one server merged: requests/s = sum of requests / sum of seconds; percentiles over every
 * response of every round; RSS max of the maxima and mean of all samples; CPU weighted by seconds.
 */
export function mergeRounds(parts: Measured[]): Measured {
  const first = parts[0]!.result;
  const total = parts.reduce((sum, p) => sum + p.times.length, 0);
  const times = new Float64Array(total);
  let at = 0;
  for (const p of parts) {
    times.set(p.times, at);
    at += p.times.length;
  }
  times.sort();
  const results = parts.map((p) => p.result);
  const sum = (pick: (r: ScenarioResult) => number) => results.reduce((s, r) => s + pick(r), 0);
  const seconds = Math.round(sum((r) => r.seconds) * 100) / 100;
  const statusCodes: Record<string, number> = {};
  for (const r of results)
    for (const [code, count] of Object.entries(r.statusCodes))
      statusCodes[code] = (statusCodes[code] ?? 0) + count;
  const maxima = results.map((r) => r.serverPeakRssMiB).filter((x): x is number => x !== null);
  const samples = sum((r) => (r.serverMeanRssMiB === null ? 0 : r.rssSamples));
  const cpus = results.map((r) => r.serverCpuPercent);
  const mainCpus = results.map((r) => r.mainThreadCpuSeconds);
  return {
    times,
    result: {
      ...first,
      round: null,
      seconds,
      requestsPerSecond: Math.round((sum((r) => r.totalRequests) / seconds) * 10) / 10,
      totalRequests: sum((r) => r.totalRequests),
      latencyP50Ms: percentile(times, 50),
      latencyP95Ms: percentile(times, 95),
      latencyP99Ms: percentile(times, 99),
      non2xx: sum((r) => r.non2xx),
      unexpectedStatus: sum((r) => r.unexpectedStatus),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      statusCodes,
      serverPeakRssMiB: maxima.length > 0 ? Math.max(...maxima) : null,
      serverMeanRssMiB:
        samples > 0
          ? Math.round((sum((r) => (r.serverMeanRssMiB ?? 0) * r.rssSamples) / samples) * 10) / 10
          : null,
      rssSamples: samples,
      serverCpuPercent: cpus.includes(null)
        ? null
        : Math.round(sum((r) => r.serverCpuPercent! * r.seconds) / seconds),
      loadGeneratorCpuPercent: Math.round(sum((r) => r.loadGeneratorCpuPercent * r.seconds) / seconds),
      mainThreadCpuSeconds: mainCpus.includes(null) ? null : sum((r) => r.mainThreadCpuSeconds!),
    },
  };
}
