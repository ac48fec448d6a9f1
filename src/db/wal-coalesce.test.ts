import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { coalesceWalWrites, EXTENSION_PATH } from "./wal-coalesce.js";

// CI builds the extension (npm ci runs the build): there it must be in use. Elsewhere a machine
// without a C compiler runs SQLite's own VFS, and these tests have nothing to test.
const mustBeBuilt = process.env.CI === "true";
const built = existsSync(EXTENSION_PATH);
const driver = createRequire(import.meta.url).resolve("better-sqlite3");

/** "writes flushes" of the process: the WAL writes SQLite asked for, and the writes made for them. */
const counters = (db: Database.Database) => {
  const [writes = Number.NaN, flushes = Number.NaN] = String(
    db.prepare("select sesame_wal_coalesce() as s").pluck().get(),
  )
    .split(" ")
    .map(Number);
  return { writes, flushes };
};

const open = (path: string) => {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  // Nothing copies the log back meanwhile: what a test reads of the files is the log's own doing.
  db.pragma("wal_autocheckpoint = 0");
  db.exec("create table if not exists t (id integer primary key, v text not null)");
  return db;
};

/**
 * A child process that commits `rows` rows of 1,000 bytes a transaction until told to stop or a
 * commit fails, saying "ok <rows in the table>" after each commit returned, "failed <code>" and
 * exiting when one throws.
 */
const committer = (path: string, rows: number) => `
  const Database = require(${JSON.stringify(driver)});
  const probe = new Database(":memory:");
  probe.loadExtension(${JSON.stringify(EXTENSION_PATH)});
  probe.close();
  const db = new Database(${JSON.stringify(path)});
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("create table if not exists t (id integer primary key, v text not null)");
  const insert = db.prepare("insert into t (v) values (?)");
  const batch = db.transaction(() => { for (let i = 0; i < ${rows}; i++) insert.run(require("crypto").randomBytes(500).toString("hex")); });
  let total = 0;
  for (;;) {
    try { batch(); } catch (error) { process.stdout.write("failed " + error.code + "\\n"); process.exit(0); }
    total += ${rows};
    process.stdout.write("ok " + total + "\\n");
  }
`;

/** Runs `script` under bash with `prelude`, until it exits or `killAfterMs`; returns its last "ok" count and its last line. */
const runCommitter = (script: string, prelude: string, killAfterMs?: number) =>
  new Promise<{ acknowledged: number; last: string }>((resolve, reject) => {
    const child = spawn("bash", ["-c", `${prelude} exec "${process.execPath}" -e "$SCRIPT"`], {
      env: { ...process.env, SCRIPT: script },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      const lines = out.trim().split("\n");
      const lastOk = lines.filter((line) => line.startsWith("ok ")).at(-1);
      resolve({ acknowledged: lastOk ? Number(lastOk.slice(3)) : 0, last: lines.at(-1) ?? "" });
    });
  });

describe.skipIf(!built && !mustBeBuilt)("WAL writes gathered per commit (native/wal_coalesce.c)", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    expect(coalesceWalWrites(Database)).toEqual({ active: true });
    dir = mkdtempSync(join(tmpdir(), "sesame-coalesce-"));
    path = join(dir, "db.sqlite");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a commit of a hundred pages in a few writes, and another connection reads all of it", () => {
    const db = open(path);
    // Loaded on this connection too, for its counters (the VFS is registered once per process).
    db.loadExtension(EXTENSION_PATH);
    const insert = db.prepare("insert into t (v) values (?)");
    const before = counters(db);
    db.transaction(() => {
      for (let i = 0; i < 200; i++) insert.run(`${i}:${"x".repeat(2_000)}`);
    })();
    const after = counters(db);
    const writes = after.writes - before.writes;
    const flushes = after.flushes - before.flushes;
    // Two writes a frame (its header, then its page), about 100 pages of rows and index.
    expect(writes).toBeGreaterThanOrEqual(200);
    // 100 frames of 4,120 bytes go out in pieces of 124 KiB: four writes.
    expect(flushes).toBeLessThanOrEqual(5);
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare("select count(*) from t").pluck().get()).toBe(200);
    expect(reader.pragma("integrity_check", { simple: true })).toBe("ok");
    reader.close();
    db.close();
  });

  it("leaves every committed transaction in the files when the commit returns, rewritten frames included", () => {
    const db = open(path);
    // A cache of a few pages makes a large transaction spill frames to the log before its commit;
    // writing them again makes SQLite rewrite their checksums at the commit, out of order.
    db.pragma("cache_size = 5");
    const insert = db.prepare("insert into t (v) values (?)");
    const update = db.prepare("update t set v = ? where id = ?");
    for (let round = 1; round <= 3; round++) {
      db.transaction(() => {
        for (let i = 0; i < 300; i++) insert.run(`${round}:${"y".repeat(1_000)}`);
        for (let id = 1; id <= 300 * round; id += 7) update.run(`updated in ${round}`, id);
      })();
      // What a crash right after the commit would leave: the files as they are now. Opening the
      // copy replays its log, and SQLite drops any frame whose checksum does not chain.
      const copy = join(dir, `copy-${round}.sqlite`);
      copyFileSync(path, copy);
      copyFileSync(`${path}-wal`, `${copy}-wal`);
      const replayed = new Database(copy);
      expect(replayed.prepare("select count(*) from t").pluck().get()).toBe(300 * round);
      expect(replayed.prepare("select v from t where id = 1").pluck().get()).toBe(`updated in ${round}`);
      expect(replayed.pragma("integrity_check", { simple: true })).toBe("ok");
      replayed.close();
    }
    db.close();
  });

  it("fails the commit whose frames cannot be written, and loses none acknowledged before it", async () => {
    // The log may grow to 2 MiB: the commit that crosses it gets EFBIG (its signal ignored).
    const { acknowledged, last } = await runCommitter(committer(path, 50), 'trap "" XFSZ; ulimit -f 2048;');
    expect(last).toMatch(/^failed SQLITE_(FULL|IOERR)/);
    expect(acknowledged).toBeGreaterThan(0);
    const db = new Database(path);
    expect(db.prepare("select count(*) from t").pluck().get()).toBe(acknowledged);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });

  it("keeps every acknowledged commit when the process is killed mid-write", async () => {
    const { acknowledged } = await runCommitter(committer(path, 40), "", 400);
    expect(acknowledged).toBeGreaterThan(0);
    const db = new Database(path);
    const count = db.prepare("select count(*) from t").pluck().get() as number;
    // At most the commit under way when it was killed may have reached the file unannounced.
    expect(count === acknowledged || count === acknowledged + 40).toBe(true);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });
});
