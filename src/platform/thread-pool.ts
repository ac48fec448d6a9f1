import { Worker } from "node:worker_threads";
import { AppError } from "./errors.js";

/**
 * Runs tasks in worker threads started on demand, up to `size` of them, each ended after `idleMs`
 * without a task: their code and memory live in the process only while there is work. Used for the
 * password's strength (zxcvbn's dictionaries, about 40 MiB, one thread) and for argon2id (one thread
 * per core, see passwords.ts).
 *
 * A task goes at once to the thread with the fewest tasks in flight (a new thread while fewer than
 * `size` run and all are busy), where it waits in the thread's own message queue: a thread that
 * finishes a task starts the next without waiting for the main thread.
 *
 * The worker is CommonJS code run with `eval: true` (it `require`s absolute paths resolved by the
 * caller), so it runs the same under vitest, tsx and compiled dist/. It answers each `{id, ...task}`
 * with `{id, result}` or `{id, error}`. Threads are unreferenced while nothing is in flight (the
 * process may exit) and referenced while a task waits (a task is never dropped). Whatever goes wrong
 * (the thread crashes, exits, answers what `accept` refuses, takes too long) fails the task with
 * ERR_UNAVAILABLE: a caller never takes a missing answer for one. What went wrong is the error's
 * `cause`, which the error handler logs; the answer says only ERR_UNAVAILABLE.
 */
export interface ThreadPoolOptions<R> {
  /** CommonJS source of the worker. */
  source: string;
  workerData?: unknown;
  /** What a task is, for the logged reason of an ERR_UNAVAILABLE ("password check"). */
  what: string;
  /** Whether a result is one this pool's callers can take; anything else fails the task. */
  accept: (result: unknown) => result is R;
  /** Threads at most (default 1). */
  size?: number;
  /** A thread ends after this long without a task in flight. */
  idleMs?: number;
  /** A thread that answers nothing for this long while tasks wait is ended, and its tasks fail. */
  timeoutMs?: number;
}

/** Retry-After (s) of a task that failed with its thread: the next task starts a new one. */
const RETRY_AFTER_S = 1;

interface Pending<R> {
  resolve(result: R): void;
  reject(error: Error): void;
}

interface Running<R> {
  worker: Worker;
  pending: Map<number, Pending<R>>;
  idle: NodeJS.Timeout | null;
  timeout: NodeJS.Timeout | null;
  /** Why it was ended from here, if it was: what the tasks in flight fail with. */
  ended: string | null;
}

export class ThreadPool<T extends object, R> {
  private readonly running: Running<R>[] = [];
  private nextId = 0;
  /** Threads at most; lowering it ends no thread that is up, it only stops new ones starting. */
  size: number;
  private readonly idleMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: ThreadPoolOptions<R>) {
    this.size = Math.max(1, options.size ?? 1);
    this.idleMs = options.idleMs ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Threads up now (tests). */
  get active(): number {
    return this.running.length;
  }

  /** Tasks sent to a thread and not yet answered, the ones being run included. */
  get inFlight(): number {
    let tasks = 0;
    for (const running of this.running) tasks += running.pending.size;
    return tasks;
  }

  /** The task's result; rejects with ERR_UNAVAILABLE when no thread could give one. */
  run(task: T): Promise<R> {
    const running = this.pick();
    if (running.idle !== null) {
      clearTimeout(running.idle);
      running.idle = null;
    }
    const id = ++this.nextId;
    return new Promise<R>((resolve, reject) => {
      running.pending.set(id, { resolve, reject });
      if (running.pending.size === 1) {
        running.worker.ref();
        this.arm(running);
      }
      running.worker.postMessage({ ...task, id });
    });
  }

  /** Ends every thread now (tests, shutdown); tasks in flight fail. */
  async close(): Promise<void> {
    await Promise.all(this.running.slice().map((running) => this.end(running, "stopped")));
  }

  /** An idle thread, else a new one while there is room, else the least busy. */
  private pick(): Running<R> {
    let least: Running<R> | undefined;
    for (const running of this.running)
      if (least === undefined || running.pending.size < least.pending.size) least = running;
    if (least !== undefined && (least.pending.size === 0 || this.running.length >= this.size)) return least;
    return this.start();
  }

  /** The reason goes to the log (the error's cause), never into the answer. */
  private unavailable(reason: string) {
    const error = new AppError("ERR_UNAVAILABLE", { retryAfter: RETRY_AFTER_S });
    error.cause = `${this.options.what} ${reason}`;
    return error;
  }

  private start(): Running<R> {
    const worker = new Worker(this.options.source, { eval: true, workerData: this.options.workerData });
    const running: Running<R> = { worker, pending: new Map(), idle: null, timeout: null, ended: null };
    this.running.push(running);
    worker.on("message", (message: { id?: unknown; result?: unknown; error?: unknown }) => {
      const pending = typeof message?.id === "number" ? running.pending.get(message.id) : undefined;
      if (pending === undefined) return;
      running.pending.delete(message.id as number);
      const { result } = message;
      if (message.error === undefined && this.options.accept(result)) pending.resolve(result);
      // The worker's own words stay out of the log: they might quote the task.
      else
        pending.reject(
          this.unavailable(message.error !== undefined ? "failed" : "gave an answer it cannot take"),
        );
      if (running.pending.size === 0) this.settle(running);
      else this.arm(running);
    });
    // An uncaught error is followed by 'exit': the tasks in flight fail there.
    worker.on("error", () => {});
    worker.on("exit", (code) => {
      this.detach(running);
      const error = this.unavailable(running.ended ?? `worker exited (${code})`);
      for (const pending of running.pending.values()) pending.reject(error);
      running.pending.clear();
    });
    // After the listeners: adding a 'message' listener references the worker's port again.
    worker.unref();
    return running;
  }

  /** The time the thread has to answer its next task in flight. */
  private arm(running: Running<R>): void {
    if (running.timeout !== null) clearTimeout(running.timeout);
    running.timeout = setTimeout(() => void this.end(running, "timed out"), this.timeoutMs);
    running.timeout.unref(); // the worker itself is referenced while a task is in flight
  }

  /** Nothing in flight: unreferenced again, and ended unless another task comes within idleMs. */
  private settle(running: Running<R>): void {
    if (running.timeout !== null) clearTimeout(running.timeout);
    running.timeout = null;
    running.worker.unref();
    running.idle = setTimeout(() => void this.end(running, "idle"), this.idleMs);
    running.idle.unref();
  }

  /** Later tasks go to other threads; the tasks still in flight on this one fail on its exit. */
  private detach(running: Running<R>): void {
    const at = this.running.indexOf(running);
    if (at !== -1) this.running.splice(at, 1);
    if (running.idle !== null) clearTimeout(running.idle);
    if (running.timeout !== null) clearTimeout(running.timeout);
    running.idle = null;
    running.timeout = null;
  }

  private async end(running: Running<R>, why: string): Promise<void> {
    running.ended ??= why;
    this.detach(running);
    await running.worker.terminate();
  }
}
