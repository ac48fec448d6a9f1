import { sql } from "kysely";
import type { Db, Executor, Tx } from "./database.js";
import { prepared, type StatementOf, withDirectStatements } from "./prepared.js";

interface Pending {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const savepoint = prepared((_db: Executor) => sql`savepoint use_case`);
const release = prepared((_db: Executor) => sql`release use_case`);
const rollbackTo = prepared((_db: Executor) => sql`rollback to use_case`);

/**
 * Group commit for SQLite: the use-case transactions that arrive while one commit is under way are
 * run together in the next transaction, each inside its own savepoint, and committed once. SQLite
 * has one writer, so they ran one after the other anyway; what they no longer each pay is the
 * commit, which writes every page they touched to the WAL (the most expensive statement of a
 * recovery start). Nothing waits for a batch to fill: a lone request is committed at once.
 *
 * Each use-case keeps its own all-or-nothing: one that fails is rolled back to its savepoint and
 * its caller gets its error, the others go on. Every caller is answered only after the commit, and
 * when the commit fails every caller of the batch gets that error: nothing is acknowledged that is
 * not committed.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  /** A batch is queued to start or running: later use-cases wait for the next one. */
  private scheduled = false;

  constructor(
    private readonly db: Db,
    /** The connection's statements: prepared queries of the batch then run on it directly. */
    private readonly statementOf?: StatementOf,
    /** Bounds the wait of the last use-case of a batch behind the others. */
    private readonly maxBatch = 64,
  ) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) this.schedule();
    });
  }

  /**
   * better-sqlite3 is synchronous: a use-case runs from start to end without giving the event loop a
   * turn, so the requests that arrived with it are only read, and queued here, once it yields. The
   * batch starts after them (setImmediate: after this turn's I/O, no timer, no added wait).
   */
  private schedule(): void {
    this.scheduled = true;
    setImmediate(() => void this.runBatch());
  }

  private async runBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      if (batch.length === 1) await this.runAlone(batch[0]!);
      else if (batch.length > 1) await this.runTogether(batch);
    } finally {
      this.scheduled = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async runAlone(item: Pending): Promise<void> {
    try {
      item.resolve(await this.db.transaction().execute((tx) => this.direct(tx, () => item.work(tx))));
    } catch (error) {
      item.reject(error);
    }
  }

  private async runTogether(batch: Pending[]): Promise<void> {
    const outcomes: Outcome[] = [];
    try {
      const tx = await this.db.startTransaction().execute();
      try {
        await this.direct(tx, () => this.runEach(tx, batch, outcomes));
        await tx.commit().execute();
      } catch (error) {
        await tx
          .rollback()
          .execute()
          .catch(() => {});
        throw error;
      }
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  private direct<T>(tx: Tx, work: () => Promise<T>): Promise<T> {
    return this.statementOf ? withDirectStatements(tx, this.statementOf, work) : work();
  }

  private async runEach(tx: Tx, batch: Pending[], outcomes: Outcome[]): Promise<void> {
    for (const item of batch) {
      await savepoint(tx);
      try {
        const value = await item.work(tx);
        await release(tx);
        outcomes.push({ ok: true, value });
      } catch (error) {
        // If SQLite already rolled the whole transaction back (disk full, I/O error), this
        // throws too, and the batch fails as a whole below.
        await rollbackTo(tx);
        await release(tx);
        outcomes.push({ ok: false, error });
      }
    }
  }
}
