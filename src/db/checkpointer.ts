import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * Copies the SQLite write-ahead log back into the database file from a worker thread, off the
 * request path. SQLite does it itself in the commit that crosses `wal_autocheckpoint` pages, and
 * with `synchronous=NORMAL` that checkpoint is where the fsyncs happen: a recovery start dirties
 * pages all over four indexes, so every few dozen batches one request's commit stopped the server
 * for the copy and two fsyncs (60% of the commit time). Durability is unchanged: the same WAL, the
 * same synchronous setting; only the thread that waits for the disk is another one.
 *
 * A PASSIVE checkpoint never blocks the writer; once it has copied every frame, the next write
 * starts the log from its beginning again, so the log stays small. The main connection keeps a
 * high automatic checkpoint as a backstop, should this thread fall behind or stop.
 */
export function startCheckpointer(path: string, everyMs = 100): { stop(): Promise<void> } {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(
    `
    const { workerData, parentPort } = require("node:worker_threads");
    const Database = require(workerData.driver);
    const db = new Database(workerData.path);
    db.pragma("busy_timeout = 0");
    const timer = setInterval(() => {
      try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
    }, workerData.everyMs);
    parentPort.on("message", () => { clearInterval(timer); db.close(); parentPort.close(); });
    `,
    { eval: true, workerData: { driver, path, everyMs } },
  );
  worker.unref();
  // A checkpoint that cannot run (the file went away) is retried by the backstop: never fatal.
  worker.on("error", () => {});
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        // Held again while it closes: an unreferenced worker would let the process end (with exit
        // code 0) before the caller's own `finally` and error handling ran.
        worker.ref();
        worker.once("exit", () => resolve());
        worker.postMessage("stop");
        setTimeout(() => void worker.terminate(), 1_000).unref();
      }),
  };
}

/** Pages of WAL after which the writer checkpoints itself, should the checkpointer fall behind. */
export const BACKSTOP_CHECKPOINT_PAGES = 20_000;

/**
 * The log's file is cut back to this size when it starts over, by the writer, in the commit that
 * starts it over. Under a steady load no checkpoint of this thread reaches the log's end (the
 * writer adds to it meanwhile), so the log grows until the writer's backstop (20,000 pages, about
 * 79 MiB) checkpoints it and it starts over. Cut back to 4 MiB each time, that was an `ftruncate`
 * of up to 75 MiB on the request path: 5-40 ms with the batch of requests waiting (ext4 frees the
 * blocks, and waits for the journal that the checkpointer's fsyncs keep busy). Above the backstop,
 * the file keeps its blocks and the log reuses them from its start; only a log that grew past it
 * (a reader holding an old snapshot, so no checkpoint could finish) is cut back.
 */
export const WAL_FILE_LIMIT_BYTES = 128 * 1024 * 1024;
