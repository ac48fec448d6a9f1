import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";

/**
 * How far V8 lets the old generation grow past what the last full collection kept, in percent.
 * Left to itself it allows up to four times as much: under a flood of recovery starts the ~25 MiB
 * the server keeps alive let ~50 MiB of promoted garbage pile up before a full collection, and the
 * resident memory followed (issue 7). At 30% a full collection (concurrent, a few ms on the main
 * thread) runs about every 8 MiB promoted; the bench measured no loss of throughput.
 */
export const HEAP_GROWING_PERCENT = 30;

const given = (execArgv: readonly string[], flag: RegExp) => execArgv.some((arg) => flag.test(arg));

/**
 * The V8 flags the server sets at start-up, each unless the command line set its own. V8 reads
 * them at each collection, so setting them at start-up works for every way the server is started
 * (`npm start`, `sesame serve`, `node dist/main.js serve`):
 * - HEAP_GROWING_PERCENT;
 * - on two cores or fewer, no helper threads for the young generation's collections (nearly all
 *   of the collector's time under load: 7-8% of the main thread under a flood of code requests).
 *   Each pause waited for helpers that found no free core beside the checkpointer, the hashing
 *   threads and the network: 0.8 ms a collection with them, 0.55-0.65 ms on the main thread alone.
 * The young generation is sized when the process starts, so its flag is on the command lines
 * (package.json's start script, bin/sesame.js): `--max-semi-space-size=2` (MiB; V8's default is 16)
 * took 15 MiB off the resident memory under a flood of recovery starts (docs/benchmarks.md).
 */
export function heapFlags(execArgv: readonly string[], cores = availableParallelism()): string[] {
  const flags: string[] = [];
  if (!given(execArgv, /^--heap[-_]growing[-_]percent\b/))
    flags.push(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  if (cores <= 2 && !given(execArgv, /^--(no[-_])?parallel[-_]scavenge\b/))
    flags.push("--no-parallel-scavenge");
  return flags;
}

/** Sets heapFlags on this process's V8; returns them. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = heapFlags(execArgv);
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
