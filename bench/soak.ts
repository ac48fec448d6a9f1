/**
 * The soak of bench/run.ts (scenario `soak`, opt-in): recovery starts at a fixed rate for a long
 * time, the server's memory and the p99 of each 10-second window sampled, and a verdict on whether
 * memory stays flat.
 */
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { mib, type Proc, sumStatusKiB } from "./servers.js";

export const SOAK_WINDOW_SECONDS = 10;

export interface SoakSample {
  /** Seconds since the load began (end of the window). */
  t: number;
  /** Responses received in the window. */
  requests: number;
  /** p99 of the window's response times, ms (null when it had none). */
  p99Ms: number | null;
  /** Server VmRSS at the end of the window (sum of the measured pids), MiB. */
  rssMiB: number | null;
}

export interface SoakResult {
  database: string;
  askedRate: number;
  seconds: number;
  connections: number;
  totalRequests: number;
  achievedRate: number;
  expectedStatus: number;
  statusCodes: Record<string, number>;
  unexpectedStatus: number;
  errors: number;
  timeouts: number;
  idleRssMiB: number | null;
  samples: SoakSample[];
  verdict: {
    rule: string;
    secondThirdMeanRssMiB: number | null;
    lastThirdMeanRssMiB: number | null;
    growthMiB: number | null;
    growthPercent: number | null;
    flat: boolean;
    ok: boolean;
  };
}

/** Nearest-rank percentile of unsorted response times (ms, one decimal). */
function p99(times: number[]): number | null {
  if (times.length === 0) return null;
  const sorted = Float64Array.from(times).sort();
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! * 10) / 10;
}

const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * Memory is flat when the mean RSS of the last third of the samples grew by no more than 10% and
 * no more than 15 MiB over the mean of the second third (the first third is warm-up). A fall is flat.
 */
export function soakVerdict(samples: SoakSample[], seconds: number): SoakResult["verdict"] {
  const rule =
    "flat = mean RSS of the last third of the run grew by <= 10% and <= 15 MiB over the mean of the second third (the first third is warm-up)";
  const rss = (from: number, to: number) =>
    samples.filter((s) => s.t > from && s.t <= to && s.rssMiB !== null).map((s) => s.rssMiB!);
  const second = mean(rss(seconds / 3, (2 * seconds) / 3));
  const last = mean(rss((2 * seconds) / 3, seconds));
  if (second === null || last === null)
    return {
      rule,
      secondThirdMeanRssMiB: second,
      lastThirdMeanRssMiB: last,
      growthMiB: null,
      growthPercent: null,
      flat: false,
      ok: false,
    };
  const growth = last - second;
  const flat = growth <= 15 && growth <= second * 0.1;
  return {
    rule,
    secondThirdMeanRssMiB: Math.round(second * 10) / 10,
    lastThirdMeanRssMiB: Math.round(last * 10) / 10,
    growthMiB: Math.round(growth * 10) / 10,
    growthPercent: Math.round((growth / second) * 1000) / 10,
    flat,
    ok: flat,
  };
}

export interface SoakOptions {
  database: string;
  rate: number;
  seconds: number;
  connections: number;
  route: string;
  expectedStatus: number;
  /** The JSON body of the n-th request. */
  body: (n: number) => string;
}

export async function runSoak(target: Proc, o: SoakOptions): Promise<SoakResult> {
  const idleRssMiB = mib(sumStatusKiB(target.measured, "VmRSS"));
  let n = 0;
  const run = autocannon({
    url: target.base,
    connections: o.connections,
    overallRate: o.rate,
    duration: o.seconds,
    timeout: 30,
    requests: [
      {
        method: "POST",
        path: o.route,
        headers: { "content-type": "application/json" },
        setupRequest: (request) => ({ ...request, body: o.body(n++) }),
      },
    ],
  }) as unknown as Promise<autocannon.Result> & NodeJS.EventEmitter;
  const t0 = performance.now();
  let window: number[] = [];
  const samples: SoakSample[] = [];
  const windows = Math.floor(o.seconds / SOAK_WINDOW_SECONDS);
  const sample = () => {
    const rssMiB = mib(sumStatusKiB(target.measured, "VmRSS"));
    const row = {
      t: (samples.length + 1) * SOAK_WINDOW_SECONDS,
      requests: window.length,
      p99Ms: p99(window),
      rssMiB,
    };
    samples.push(row);
    window = [];
    console.log(
      `bench: soak t=${String(row.t).padStart(4)} s  ${String(row.requests).padStart(6)} requests  p99 ${row.p99Ms ?? "n/a"} ms  RSS ${row.rssMiB ?? "n/a"} MiB`,
    );
  };
  // Each window ends at a multiple of 10 s since the load began (not drifting with the timer).
  let timer: NodeJS.Timeout | null = null;
  const schedule = () => {
    if (samples.length >= windows) return;
    const due = t0 + (samples.length + 1) * SOAK_WINDOW_SECONDS * 1000;
    timer = setTimeout(
      () => {
        sample();
        schedule();
      },
      Math.max(0, due - performance.now()),
    );
  };
  schedule();
  run.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    window.push(responseTime);
  });
  let result: autocannon.Result;
  try {
    result = await run;
  } finally {
    if (timer) clearTimeout(timer);
  }
  // autocannon ends on its next 1-second tick after the duration: the last window is taken then if
  // its timer has not fired yet; responses after it (in flight at the stop) are in the totals only.
  if (samples.length < windows) sample();
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = Number(count);
  const unexpectedStatus = Object.entries(statusCodes)
    .filter(([code]) => Number(code) !== o.expectedStatus)
    .reduce((sum, [, count]) => sum + count, 0);
  const verdict = soakVerdict(samples, windows * SOAK_WINDOW_SECONDS);
  verdict.ok = verdict.flat && unexpectedStatus === 0 && result.errors === 0 && result.timeouts === 0;
  return {
    database: o.database,
    askedRate: o.rate,
    seconds: result.duration,
    connections: o.connections,
    totalRequests: result.requests.total,
    achievedRate: Math.round((result.requests.total / result.duration) * 10) / 10,
    expectedStatus: o.expectedStatus,
    statusCodes,
    unexpectedStatus,
    errors: result.errors,
    timeouts: result.timeouts,
    idleRssMiB,
    samples,
    verdict,
  };
}
