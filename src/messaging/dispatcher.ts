import type { FastifyBaseLogger } from "fastify";
import type { Db, Dialect } from "../db/database.js";
import type { Clock } from "../platform/clock.js";
import type { Secrets } from "../platform/secrets.js";
import {
  claimDueMessages,
  codeStillLive,
  markFailed,
  markNotSent,
  markSent,
  type OutboxRow,
} from "./outbox.js";
import type { Transport } from "./transports.js";

export interface DispatcherTiming {
  /** Poll for retries and for messages queued by other nodes. */
  pollMs: number;
  /** Ceiling of the backoff while the database fails (doubling from pollMs). */
  maxBackoffMs: number;
}

/**
 * Sends what the outbox holds: woken right after a commit, and polling for retries and for
 * messages queued by other nodes. While the database fails it backs off (exponential, capped) and
 * resumes by itself; a message delivered whose "sent" could not be recorded is recorded first on
 * the next drain, before its claim runs out, so it is not sent twice.
 */
export class OutboxDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  /** Drains in a row that failed on the database. */
  private failures = 0;
  /** Delivered, not yet recorded as sent: id -> [sent at, forget the body]. */
  private readonly unrecorded = new Map<string, [number, boolean]>();
  private readonly timing: DispatcherTiming;

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly secrets: Secrets,
    private readonly transports: Record<"email" | "sms", Transport>,
    private readonly log: FastifyBaseLogger,
    timing: Partial<DispatcherTiming> = {},
  ) {
    this.timing = { pollMs: 2_000, maxBackoffMs: 30_000, ...timing };
  }

  /** How long until the next poll: the poll interval, or the backoff after failed drains. */
  get nextPollMs(): number {
    return Math.min(this.timing.pollMs * 2 ** this.failures, this.timing.maxBackoffMs);
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** No new drain starts; resolves when the running one (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.drain().finally(() => {
      this.running = null;
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

  /** Sends everything due now; resolves when the outbox has nothing due or the database failed. */
  async drain(): Promise<void> {
    try {
      for (const [id, [sentAt, forgetBody]] of this.unrecorded) {
        await markSent(this.db, id, sentAt, forgetBody);
        this.unrecorded.delete(id);
      }
      for (;;) {
        const batch = await claimDueMessages(this.db, this.dialect, this.clock);
        if (batch.length === 0) break;
        // Settled, not Promise.all: every send in the batch finishes before the drain goes on or stops.
        const outcomes = await Promise.allSettled(batch.map((row) => this.deliver(row)));
        const failed = outcomes.find((o) => o.status === "rejected");
        if (failed) throw failed.reason;
      }
      if (this.failures > 0) this.log.info("outbox dispatch resumed");
      this.failures = 0;
    } catch (error) {
      this.failures++;
      this.log.error({ err: error, retryInMs: this.nextPollMs }, "outbox dispatch failed; backing off");
    }
  }

  /** One message: settled in the database, or throws when the database fails (the drain backs off). */
  private async deliver(row: OutboxRow): Promise<void> {
    if (row.code_id && !(await codeStillLive(this.db, row.code_id))) {
      await markNotSent(this.db, row.id, "voided", "code voided or used before delivery");
      return;
    }
    let body: string;
    try {
      body = this.secrets.unseal(row.body);
    } catch {
      // Written by someone without the key, or damaged: never sent, and never retried.
      this.log.error({ messageId: row.id, channel: row.channel }, "outbox message does not open; not sent");
      await markNotSent(this.db, row.id, "failed", "sealed body refused");
      return;
    }
    const transport = this.transports[row.channel];
    try {
      await transport.send({ ...row, body });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log.warn(
        { messageId: row.id, channel: row.channel, reason },
        "message delivery failed; will retry",
      );
      await markFailed(this.db, row, this.clock.now(), reason);
      return;
    }
    const sentAt = this.clock.now();
    try {
      await markSent(this.db, row.id, sentAt, !transport.captured);
    } catch (error) {
      this.unrecorded.set(row.id, [sentAt, !transport.captured]);
      throw error;
    }
  }
}
