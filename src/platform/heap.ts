import { setFlagsFromString } from "node:v8";

/**
 * How far V8 lets the old generation grow past what the last full collection kept, in percent.
 * Left to itself it allows up to four times as much: under a flood of recovery starts the ~25 MiB
 * the server keeps alive let ~50 MiB of promoted garbage pile up before a full collection, and the
 * resident memory followed (issue 7). At 30% a full collection (concurrent, a few ms on the main
 * thread) runs about every 8 MiB promoted; the bench measured no loss of throughput.
 */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Applies HEAP_GROWING_PERCENT unless the command line set its own. V8 reads this flag at each
 * collection, so setting it at start-up works for every way the server is started (`npm start`,
 * `sesame serve`, `node dist/main.js serve`). The young generation is sized when the process
 * starts, so its flag is on the command lines (package.json's start script, bin/sesame.js):
 * `--max-semi-space-size=2` (MiB; V8's default is 16) took 15 MiB off the resident memory under a
 * flood of recovery starts; since the hot statements allocate little (src/db/prepared.ts), the
 * smaller young generation costs no throughput the bench can measure (docs/benchmarks.md).
 */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
