import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BACKSTOP_CHECKPOINT_PAGES, WAL_FILE_LIMIT_BYTES } from "./checkpointer.js";
import { type DbHandle, migrateToLatest, openDatabase } from "./database.js";

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the WAL checkpointer (SQLite)", () => {
  let dir: string;
  let path: string;
  let wal: string;
  let handle: DbHandle;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sesame-wal-"));
    path = join(dir, "db.sqlite");
    wal = `${path}-wal`;
    handle = openDatabase({ kind: "sqlite", path });
    await migrateToLatest(handle.db);
  });
  afterEach(async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const blob = "x".repeat(8_000);
  /** About 0.4 MiB of log in one transaction, as a batch of requests writes. */
  const writeBatch = (tag: string) =>
    handle.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 50; i++)
        await sql`insert into cap_counters (key, window_start, count) values (${`${tag}:${i}:${blob}`}, 0, 1)`.execute(
          tx,
        );
    });

  it("starts the log over from the start of its file, and keeps the file (no cut on the request path)", async () => {
    // 40 MiB while a reader's snapshot stops every checkpoint short of the log's end: the log cannot
    // start over and its file grows with each write, as between two full checkpoints under load.
    const reader = new Database(path);
    try {
      reader.prepare("begin").run();
      reader.prepare("select count(*) from cap_counters").get();
      for (let batch = 0; batch < 100; batch++) await writeBatch(`burst${batch}`);
    } finally {
      reader.prepare("commit").run();
      reader.close();
    }
    const grown = statSync(wal).size;
    expect(grown).toBeGreaterThan(32 * MiB);
    // 20 MiB more, written as requests do, with the checkpointer's turns between them: each write
    // after a full checkpoint starts the log over, in the blocks the file already has.
    for (let batch = 0; batch < 50; batch++) {
      if (batch % 10 === 0) await sleep(250);
      await writeBatch(`after${batch}`);
    }
    // Without the checkpointer the log would have gone on, 20 MiB past the burst; cut back on each
    // restart (the 4 MiB limit of before), the file would be smaller than the burst left it.
    const size = statSync(wal).size;
    expect(size).toBeGreaterThanOrEqual(grown);
    expect(size).toBeLessThan(grown + 8 * MiB);
    const rows = await sql<{ n: number }>`select count(*) as n from cap_counters`.execute(handle.db);
    expect(Number(rows.rows[0]!.n)).toBe(7_500);
  });

  it("bounds the log's file: cut back to the limit when it starts over past it", async () => {
    // A burst past 128 MiB takes seconds to write; that SQLite honours the limit is SQLite's test.
    const [limit] = await sql<{ journal_size_limit: number }>`pragma journal_size_limit`
      .execute(handle.db)
      .then((r) => r.rows);
    expect(Number(limit!.journal_size_limit)).toBe(WAL_FILE_LIMIT_BYTES);
    // Above what the log reaches before the writer checkpoints itself: no cut in a steady load.
    expect(WAL_FILE_LIMIT_BYTES).toBeGreaterThan(BACKSTOP_CHECKPOINT_PAGES * (4096 + 24));
  });
});
