import type { FastifyBaseLogger } from "fastify";
import type { Db, Dialect } from "../db/database.js";
import type { Clock } from "../platform/clock.js";
import type { Secrets } from "../platform/secrets.js";
import { claimDueMessages, markFailed, markSent } from "./outbox.js";
import type { Transport } from "./transports.js";

/**
 * Sends what the outbox holds: woken right after a commit, and polling for retries and for
 * messages queued by other nodes.
 */
export class OutboxDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly secrets: Secrets,
    private readonly transports: Record<"email" | "sms", Transport>,
    private readonly log: FastifyBaseLogger,
    private readonly pollMs = 2_000,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Sends everything due now; resolves when the outbox has nothing due. */
  async drain(): Promise<void> {
    try {
      for (;;) {
        const batch = await claimDueMessages(this.db, this.dialect, this.clock);
        if (batch.length === 0) return;
        await Promise.all(
          batch.map(async (row) => {
            try {
              const transport = this.transports[row.channel];
              await transport.send({ ...row, body: this.secrets.unseal(row.body) });
              await markSent(this.db, row.id, this.clock.now(), !transport.captured);
            } catch (error) {
              const reason = error instanceof Error ? error.message : String(error);
              this.log.warn(
                { messageId: row.id, channel: row.channel, reason },
                "message delivery failed; will retry",
              );
              await markFailed(this.db, row, this.clock.now(), reason);
            }
          }),
        );
      }
    } catch (error) {
      this.log.error({ err: error }, "outbox dispatch failed");
    }
  }
}
