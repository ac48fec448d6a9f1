import type { FastifyBaseLogger } from "fastify";
import type { Clock } from "./clock.js";
import type { Worker } from "./feature.js";

export interface ClockWorkerOptions {
  /** Names the worker in logs ("outbox", "timers"). */
  name: string;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Poll for work that came due, or that other nodes queued. */
  pollMs: number;
  /** Ceiling of the backoff while rounds fail (doubling from pollMs). */
  maxBackoffMs: number;
  /** One round: does everything due at `now`; throws when it could not (the database failed). */
  runDue: (now: number) => Promise<void>;
}

/**
 * A background worker driven by the platform clock: a round runs when woken (right after a commit
 * that made work, or after the manual clock moved) and every pollMs; after a failed round it backs
 * off (doubling, capped) and resumes by itself. Rounds never overlap within the loop; stop() lets
 * the running round finish.
 */
export class ClockWorker implements Worker {
  readonly name: string;
  private timer: NodeJS.Timeout | null = null;
  /** The round started by the loop (wake, poll), if one is running. */
  private looping: Promise<void> | null = null;
  /** Every round running, the loop's and those called directly (tests, drain()). */
  private readonly running = new Set<Promise<void>>();
  private again = false;
  private stopped = true;
  /** Rounds in a row that failed. */
  private failures = 0;

  constructor(private readonly opts: ClockWorkerOptions) {
    this.name = opts.name;
  }

  /** How long until the next poll: the poll interval, or the backoff after failed rounds. */
  get nextPollMs(): number {
    return Math.min(this.opts.pollMs * 2 ** this.failures, this.opts.maxBackoffMs);
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** No new round starts; resolves when the running ones have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.running]);
  }

  /** Runs a round now (or right after the running one); nothing once stopped. */
  wake(): void {
    if (this.stopped) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.looping = this.runDue().finally(() => {
      this.looping = null;
      if (this.stopped) return;
      if (this.again && this.failures === 0) {
        this.again = false;
        this.wake();
        return;
      }
      this.again = false;
      this.timer = setTimeout(() => this.wake(), this.nextPollMs);
      this.timer.unref();
    });
  }

  /**
   * One round at `now` (default: the clock's now). Never throws: a failure is logged and counted,
   * and lengthens the next wait; a success after failures resets it.
   */
  async runDue(now?: number): Promise<void> {
    const round = this.round(now ?? this.opts.clock.now());
    this.running.add(round);
    try {
      await round;
    } finally {
      this.running.delete(round);
    }
  }

  private async round(now: number): Promise<void> {
    try {
      await this.opts.runDue(now);
      if (this.failures > 0) this.opts.log.info({ worker: this.name }, `${this.name} worker resumed`);
      this.failures = 0;
    } catch (error) {
      this.failures++;
      this.opts.log.error(
        { err: error, worker: this.name, retryInMs: this.nextPollMs },
        `${this.name} worker failed; backing off`,
      );
    }
  }
}
