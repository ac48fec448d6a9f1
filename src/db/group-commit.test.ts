import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DbHandle,
  type Executor,
  migrateToLatest,
  openDatabase,
  PAGE_CACHE_KIB,
  type Tx,
} from "./database.js";
import { GroupCommit } from "./group-commit.js";
import { prepared, runsDirectly } from "./prepared.js";

// SQLite's group commit, on a database file, watched from a second connection (as another process
// would see it): what a caller was told is committed must be there, and nothing else.
describe("group commit (SQLite)", () => {
  let dir: string;
  let handle: DbHandle;
  let group: GroupCommit;
  let observer: SqliteDatabase.Database;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sesame-group-"));
    handle = openDatabase({ kind: "sqlite", path: join(dir, "db.sqlite") });
    await migrateToLatest(handle.db);
    group = new GroupCommit(handle.db);
    observer = new SqliteDatabase(join(dir, "db.sqlite"), { readonly: true });
  });
  afterEach(async () => {
    observer.close();
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = (key: string) =>
    sql`insert into cap_counters (key, window_start, count) values (${key}, 0, 1)`;
  const seen = () =>
    (observer.prepare("select key from cap_counters order by key").all() as { key: string }[]).map(
      (r) => r.key,
    );

  it("runs the use-cases that arrive together in one transaction, and answers each after the commit", async () => {
    const transactions = new Set<Tx>();
    const visibleWhenAnswered: string[][] = [];
    const keys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    await Promise.all(
      keys.map((key) =>
        group
          .run(async (tx) => {
            transactions.add(tx);
            await count(key).execute(tx);
          })
          .then(() => visibleWhenAnswered.push(seen())),
      ),
    );
    expect(transactions.size).toBe(1);
    // Every caller, when answered, could already read all twenty from another connection.
    for (const visible of visibleWhenAnswered) expect(visible).toEqual(keys);
  });

  it("rolls back a failing use-case alone: its caller gets its error, the others commit", async () => {
    const results = await Promise.allSettled([
      group.run((tx) => count("a").execute(tx)),
      group.run(async (tx) => {
        await count("b").execute(tx);
        throw new Error("refused after writing");
      }),
      group.run((tx) => count("c").execute(tx)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe("refused after writing");
    expect(seen()).toEqual(["a", "c"]);
  });

  it("fails every caller of a batch whose commit fails, and keeps nothing of it", async () => {
    const results = await Promise.allSettled([
      group.run((tx) => count("fine").execute(tx)),
      group.run(async (tx) => {
        // Checked at the commit: a recovery of an account that does not exist.
        await sql`pragma defer_foreign_keys = on`.execute(tx);
        await sql`insert into recoveries (id, address, account_id, locale, state, started_at)
          values ('r1', 'a@example.test', 'no-such-account', 'en', 'choose_channel', 0)`.execute(tx);
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(seen()).toEqual([]);
    // And the next batch works.
    await group.run((tx) => count("after").execute(tx));
    expect(seen()).toEqual(["after"]);
  });

  it("keeps each use-case's savepoint journal in memory, never in a temporary file", async () => {
    // Past 64 KiB a sub-journal spilled to a file: every page a use-case changed was written twice.
    const { rows } = await sql<{ temp_store: number }>`pragma temp_store`.execute(handle.db);
    expect(rows).toEqual([{ temp_store: 2 }]);
  });

  it("keeps a page cache of PAGE_CACHE_KIB, not the 16 MB better-sqlite3 builds SQLite with", async () => {
    const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(handle.db);
    expect(rows).toEqual([{ cache_size: -PAGE_CACHE_KIB }]);
    expect(PAGE_CACHE_KIB).toBeLessThan(16_000);
  });

  it("commits a lone use-case at once", async () => {
    await group.run((tx) => count("alone").execute(tx));
    expect(seen()).toEqual(["alone"]);
  });
});

// Prepared queries of an open batch skip Kysely and run on the connection directly: only there.
describe("group commit (SQLite): prepared queries run directly in its transactions", () => {
  let dir: string;
  let handle: DbHandle;
  let group: GroupCommit;
  /** The texts the batches ran directly, in order. */
  let direct: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sesame-direct-"));
    handle = openDatabase({ kind: "sqlite", path: join(dir, "db.sqlite") });
    await migrateToLatest(handle.db);
    direct = [];
    group = new GroupCommit(handle.db, (text) => {
      direct.push(text);
      return handle.statementOf!(text);
    });
  });
  afterEach(async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = prepared((db: Executor, key: string, start: number) =>
    db.insertInto("cap_counters").values({ key, window_start: start, count: 1 }),
  );
  const find = prepared((db: Executor, key: string) =>
    db.selectFrom("cap_counters").select(["key", "window_start", "count"]).where("key", "=", key),
  );
  const findOutside = prepared((db: Executor, key: string) =>
    db.selectFrom("cap_counters").select("key").where("key", "=", key),
  );
  const bump = prepared((db: Executor, start: number) =>
    db
      .updateTable("cap_counters")
      .set((eb) => ({ count: eb("count", "+", 1) }))
      .where("window_start", ">=", start),
  );

  it("answers as Kysely does, in a batch and alone", async () => {
    const through = async (tx: Executor) => {
      await insert(tx, "a", 10);
      await insert(tx, "b", 20);
      const updated = await bump(tx, 15);
      return { updated: updated.numAffectedRows, rows: (await find(tx, "b")).rows };
    };
    const [one, two] = await Promise.all([group.run(through), group.run(async () => "second")]);
    expect(two).toBe("second");
    expect(one).toEqual({ updated: 1n, rows: [{ key: "b", window_start: 20, count: 2 }] });
    expect(direct.some((text) => text.startsWith("savepoint"))).toBe(true);
    expect(direct.filter((text) => text.startsWith("insert into"))).toHaveLength(2);
    // The same queries through Kysely, outside any batch, see the same.
    expect((await find(handle.db, "b")).rows).toEqual([{ key: "b", window_start: 20, count: 2 }]);

    const alone = await group.run((tx) => find(tx, "a"));
    expect(alone.rows).toEqual([{ key: "a", window_start: 10, count: 1 }]);
  });

  it("never runs a query of the database itself inside an open batch", async () => {
    let outside: Promise<unknown> | undefined;
    const failed = group.run(async (tx) => {
      await insert(tx, "ghost", 1);
      // Another request's read while this use-case is open, before it is rolled back: inside the
      // transaction it would see the row that never exists.
      outside = findOutside(handle.db, "ghost");
      throw new Error("refused after writing");
    });
    await expect(failed).rejects.toThrow("refused after writing");
    expect(((await outside) as { rows: unknown[] }).rows).toEqual([]);
  });

  it("runs queries of the database itself directly only while no transaction is open", async () => {
    expect(runsDirectly(handle.db)).toBe(true);
    const seen = await group.run(async (tx) => {
      await insert(tx, "k", 1);
      return { tx: runsDirectly(tx), db: runsDirectly(handle.db) };
    });
    expect(seen).toEqual({ tx: true, db: false });
    expect(runsDirectly(handle.db)).toBe(true);
    expect((await group.run((tx) => find(tx, "k"))).rows).toEqual([{ key: "k", window_start: 1, count: 1 }]);
    // A transaction Kysely opened by itself is not marked: its queries go through Kysely, and get
    // rows as objects from statements of its own (the direct path's read arrays).
    await handle.db.transaction().execute(async (tx) => {
      await insert(tx, "other", 1);
      expect([runsDirectly(tx), runsDirectly(handle.db)]).toEqual([false, false]);
      expect((await find(tx, "k")).rows).toEqual([{ key: "k", window_start: 1, count: 1 }]);
    });
    expect((await findOutside(handle.db, "other")).rows).toEqual([{ key: "other" }]);
  });

  it("refuses a query on a transaction after its commit, as Kysely does", async () => {
    let kept: Tx | undefined;
    await group.run(async (tx) => {
      kept = tx;
      await insert(tx, "k", 1);
    });
    const before = direct.length;
    await expect(find(kept!, "k")).rejects.toThrow(/committed|rolled back/);
    expect(direct).toHaveLength(before);
  });
});
