import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DbHandle, migrateToLatest, openDatabase } from "./database.js";

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the WAL checkpointer (SQLite)", () => {
  let dir: string;
  let handle: DbHandle;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sesame-wal-"));
    handle = openDatabase({ kind: "sqlite", path: join(dir, "db.sqlite") });
    await migrateToLatest(handle.db);
  });
  afterEach(async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the write-ahead log small while the writer never checkpoints itself", async () => {
    const wal = join(dir, "db.sqlite-wal");
    const blob = "x".repeat(8_000);
    // 40 MiB written in 100 transactions: far below the writer's own backstop (80 MiB of pages).
    for (let batch = 0; batch < 100; batch++) {
      await handle.db.transaction().execute(async (tx) => {
        for (let i = 0; i < 50; i++)
          await sql`insert into cap_counters (key, window_start, count) values (${`${batch}:${i}:${blob}`}, 0, 1)`.execute(
            tx,
          );
      });
      if (batch % 10 === 9) await sleep(150); // the checkpointer's turn, as between requests
    }
    // Each write after a full checkpoint starts the log over; its file is cut to the size limit.
    let size = statSync(wal).size;
    for (let i = 0; i < 30 && size > 8 * MiB; i++) {
      await sleep(100);
      await sql`insert into cap_counters (key, window_start, count) values (${`tick${i}`}, 0, 1)`.execute(
        handle.db,
      );
      size = statSync(wal).size;
    }
    expect(size).toBeLessThan(8 * MiB);
    const rows = await sql<{ n: number }>`select count(*) as n from cap_counters`.execute(handle.db);
    expect(Number(rows.rows[0]!.n)).toBeGreaterThanOrEqual(5_000);
  });
});
