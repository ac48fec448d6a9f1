import { Worker } from "node:worker_threads";
import { AppError } from "../platform/errors.js";

/**
 * Runs a scoring function (zxcvbn, see passwords.ts) in a worker thread started on demand and ended
 * after `idleMs` without a check, so its code and dictionaries (about 40 MiB) live in the process only
 * while passwords are being checked: a burst of checks shares one worker, then the memory goes back.
 *
 * The worker is CommonJS code run with `eval: true` (it `require`s absolute paths resolved here), so
 * it runs the same under vitest, tsx and compiled dist/. It is unreferenced while nothing is in
 * flight (the process may exit) and referenced while a check waits (a check is never dropped).
 * Whatever goes wrong (the worker crashes, exits, answers no number, takes too long) fails the check
 * with ERR_UNAVAILABLE: a password is never taken as strong without its score.
 */
export interface ScoringWorkerOptions {
  /** CommonJS source of the worker: answers each `{id, password, personalWords}` with `{id, score}` or `{id, error}`. */
  source: string;
  workerData?: unknown;
  /** The worker ends after this long without a check in flight. */
  idleMs?: number;
  /** A check without an answer after this long ends the worker and fails (every check in flight). */
  timeoutMs?: number;
}

/** Retry-After (s) of a check that failed with its worker: the next check starts a new one. */
const RETRY_AFTER_S = 1;

const unavailable = (reason: string) =>
  new AppError("ERR_UNAVAILABLE", { retryAfter: RETRY_AFTER_S, reason: `password check ${reason}` });

interface Pending {
  resolve(score: number): void;
  reject(error: Error): void;
}

interface Running {
  worker: Worker;
  pending: Map<number, Pending>;
  idle: NodeJS.Timeout | null;
  timeout: NodeJS.Timeout | null;
  /** Why it was ended from here, if it was: what the checks in flight fail with. */
  ended: string | null;
}

export class ScoringWorker {
  private running: Running | null = null;
  private nextId = 0;
  private readonly idleMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: ScoringWorkerOptions) {
    this.idleMs = options.idleMs ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Whether a worker thread is up now (tests). */
  get active(): boolean {
    return this.running !== null;
  }

  /** The score the worker gives; rejects with ERR_UNAVAILABLE when it cannot give one. */
  score(password: string, personalWords: string[]): Promise<number> {
    const running = this.running ?? this.start();
    if (running.idle !== null) {
      clearTimeout(running.idle);
      running.idle = null;
    }
    const id = ++this.nextId;
    return new Promise<number>((resolve, reject) => {
      running.pending.set(id, { resolve, reject });
      if (running.pending.size === 1) {
        running.worker.ref();
        this.arm(running);
      }
      running.worker.postMessage({ id, password, personalWords });
    });
  }

  /** Ends the worker now (tests, shutdown); checks in flight fail. */
  async close(): Promise<void> {
    const running = this.running;
    if (running !== null) await this.end(running, "stopped");
  }

  private start(): Running {
    const worker = new Worker(this.options.source, { eval: true, workerData: this.options.workerData });
    const running: Running = { worker, pending: new Map(), idle: null, timeout: null, ended: null };
    this.running = running;
    worker.on("message", (message: { id?: unknown; score?: unknown; error?: unknown }) => {
      const pending = typeof message?.id === "number" ? running.pending.get(message.id) : undefined;
      if (pending === undefined) return;
      running.pending.delete(message.id as number);
      const { score } = message;
      if (typeof score === "number" && Number.isInteger(score) && score >= 0 && score <= 4)
        pending.resolve(score);
      else pending.reject(unavailable(`failed: ${String(message.error ?? "no score")}`));
      if (running.pending.size === 0) this.settle(running);
      else this.arm(running);
    });
    // An uncaught error is followed by 'exit': the checks in flight fail there.
    worker.on("error", () => {});
    worker.on("exit", (code) => {
      this.detach(running);
      const error = unavailable(running.ended ?? `worker exited (${code})`);
      for (const pending of running.pending.values()) pending.reject(error);
      running.pending.clear();
    });
    // After the listeners: adding a 'message' listener references the worker's port again.
    worker.unref();
    return running;
  }

  /** The time the worker has to answer the next check in flight. */
  private arm(running: Running): void {
    if (running.timeout !== null) clearTimeout(running.timeout);
    running.timeout = setTimeout(() => void this.end(running, "timed out"), this.timeoutMs);
    running.timeout.unref(); // the worker itself is referenced while a check is in flight
  }

  /** Nothing in flight: unreferenced again, and ended unless another check comes within idleMs. */
  private settle(running: Running): void {
    if (running.timeout !== null) clearTimeout(running.timeout);
    running.timeout = null;
    running.worker.unref();
    running.idle = setTimeout(() => void this.end(running, "idle"), this.idleMs);
    running.idle.unref();
  }

  /** Later checks start a new worker; the checks still in flight on this one fail on its exit. */
  private detach(running: Running): void {
    if (this.running === running) this.running = null;
    if (running.idle !== null) clearTimeout(running.idle);
    if (running.timeout !== null) clearTimeout(running.timeout);
    running.idle = null;
    running.timeout = null;
  }

  private async end(running: Running, why: string): Promise<void> {
    running.ended ??= why;
    this.detach(running);
    await running.worker.terminate();
  }
}
