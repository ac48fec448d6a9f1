import type { FastifyBaseLogger } from "fastify";
import type { Db, Dialect, Executor } from "../db/database.js";
import type { Clock } from "../platform/clock.js";
import type { Worker } from "../platform/feature.js";
import type { Secrets } from "../platform/secrets.js";
import { ClockWorker } from "../platform/worker.js";
import {
  claimDueMessages,
  codeStillLive,
  markFailed,
  markNotSent,
  markSent,
  OUTBOX_BATCH,
  type OutboxRow,
  openBody,
} from "./outbox.js";
import type { Transport } from "./transports.js";

export interface DispatcherTiming {
  /** Poll for retries and for messages queued by other nodes. */
  pollMs: number;
  /** Ceiling of the backoff while the database fails (doubling from pollMs). */
  maxBackoffMs: number;
}

/**
 * Sends what the outbox holds, on a ClockWorker: woken right after a commit, and polling for
 * retries and for messages queued by other nodes. While the database fails it backs off
 * (exponential, capped) and resumes by itself; a message delivered whose "sent" could not be
 * recorded is recorded first on the next drain, before its claim runs out, so it is not sent twice.
 */
export class OutboxDispatcher implements Worker {
  /** Delivered, not yet recorded as sent: id -> [sent at, forget the body]. */
  private readonly unrecorded = new Map<string, [number, boolean]>();
  readonly worker: ClockWorker;

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly secrets: Secrets,
    private readonly transports: Record<"email" | "sms", Transport>,
    private readonly log: FastifyBaseLogger,
    timing: Partial<DispatcherTiming> = {},
    /**
     * Where the claims and the marks are written: by default each on its own (one statement each);
     * on SQLite, the requests' group commit (no commit of their own).
     */
    private readonly transact?: <T>(work: (tx: Executor) => Promise<T>) => Promise<T>,
  ) {
    this.worker = new ClockWorker({
      name: "outbox",
      clock,
      log,
      pollMs: 2_000,
      maxBackoffMs: 30_000,
      ...timing,
      runDue: () => this.sendDue(),
    });
  }

  /** How long until the next poll: the poll interval, or the backoff after failed drains. */
  get nextPollMs(): number {
    return this.worker.nextPollMs;
  }

  start(): void {
    this.worker.start();
  }

  /** No new drain starts; resolves when the running one (if any) has finished. */
  stop(): Promise<void> {
    return this.worker.stop();
  }

  wake(): void {
    this.worker.wake();
  }

  /** Sends everything due now; resolves when the outbox has nothing due or the database failed (never throws). */
  drain(): Promise<void> {
    return this.worker.runDue();
  }

  private write<T>(work: (db: Executor) => Promise<T>): Promise<T> {
    return this.transact ? this.transact(work) : work(this.db);
  }

  /** One round of the worker: throws when the database fails, so the worker backs off. */
  private async sendDue(): Promise<void> {
    for (const [id, [sentAt, forgetBody]] of this.unrecorded) {
      await this.write((db) => markSent(db, id, sentAt, forgetBody));
      this.unrecorded.delete(id);
    }
    for (;;) {
      const { claimed, live } = await this.write((db) => this.claimLive(db));
      // Settled, not Promise.all: every send in the batch finishes before the drain goes on or stops.
      const outcomes = await Promise.allSettled(live.map((row) => this.deliver(row)));
      const failed = outcomes.find((o) => o.status === "rejected");
      if (failed) throw failed.reason;
      // Nothing more was due at the claim. What is queued since wakes the worker for another round
      // (and another node's, the poll finds): a claim that finds nothing was a round trip per drain.
      if (claimed < OUTBOX_BATCH) break;
    }
  }

  /**
   * Claims what is due, and settles at once the messages whose code was voided or used since they
   * were queued: sending them would only confuse. In one write: on SQLite, each read outside the
   * group commit's transaction took a snapshot of its own (8.9 µs a code, against 3 inside).
   */
  private async claimLive(db: Executor): Promise<{ claimed: number; live: OutboxRow[] }> {
    const batch = await claimDueMessages(db, this.dialect, this.clock);
    const live: OutboxRow[] = [];
    for (const row of batch) {
      if (row.code_id === null || (await codeStillLive(db, row.code_id))) live.push(row);
      else await markNotSent(db, row.id, "voided", "code voided or used before delivery");
    }
    return { claimed: batch.length, live };
  }

  /** Sent messages of one moment recorded in one write (one savepoint in the group commit, not one each). */
  private sentMarks: Array<[id: string, sentAt: number, forgetBody: boolean]> = [];
  private recording: Promise<void> | null = null;

  private recordSent(id: string, sentAt: number, forgetBody: boolean): Promise<void> {
    this.sentMarks.push([id, sentAt, forgetBody]);
    this.recording ??= Promise.resolve().then(() => {
      const marks = this.sentMarks;
      this.sentMarks = [];
      this.recording = null;
      return this.write(async (db) => {
        for (const [markId, at, forget] of marks) await markSent(db, markId, at, forget);
      });
    });
    return this.recording;
  }

  /** One message: settled in the database, or throws when the database fails (the drain backs off). */
  private async deliver(row: OutboxRow): Promise<void> {
    let body: string;
    try {
      body = openBody(this.secrets, row);
    } catch {
      // Written or changed by someone without the key, or damaged: never sent, and never retried.
      this.log.error({ messageId: row.id, channel: row.channel }, "outbox message does not open; not sent");
      await this.write((db) =>
        markNotSent(db, row.id, "failed", "body refused: it does not open, or was changed"),
      );
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
      await this.write((db) => markFailed(db, row, this.clock.now(), reason));
      return;
    }
    const sentAt = this.clock.now();
    try {
      await this.recordSent(row.id, sentAt, !transport.captured);
    } catch (error) {
      this.unrecorded.set(row.id, [sentAt, !transport.captured]);
      throw error;
    }
  }
}
