import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { describe, expect, it } from "vitest";

/**
 * Start-up failures end in one clear line naming the setting to fix, not a stack trace: the real
 * binary is spawned, as an operator or a container runtime would.
 */
const SECRET = "startup-test-secret-0123456789abcdefgh";

async function sesame(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      SESAME_SECRET: SECRET,
      METRICS_PORT: "0",
      LOG_LEVEL: "silent",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const started = performance.now();
  const [code] = (await once(child, "exit")) as [number];
  return { code, stdout, stderr, ms: performance.now() - started };
}

const tempDir = () => mkdtempSync(join(tmpdir(), "sesame-startup-"));
const oneLine = (text: string) => text.trim().split("\n");

describe("start-up failures", () => {
  it("names PORT when the port is taken", async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const run = await sesame(["serve"], {
        DATABASE_URL: `sqlite:${join(tempDir(), "s.db")}`,
        PORT: String(port),
        HOST: "127.0.0.1",
      });
      expect(run.code).not.toBe(0);
      expect(oneLine(run.stderr)).toEqual([`sesame: port ${port} is already in use: choose another PORT`]);
    } finally {
      squatter.close();
    }
  }, 30_000);

  it("warns when SQLite's log frames are not gathered per commit (SQLITE_COALESCE_WAL=off), and only then", async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const start = (env: Record<string, string>) =>
        sesame(["serve"], {
          DATABASE_URL: `sqlite:${join(tempDir(), "s.db")}`,
          PORT: String(port),
          HOST: "127.0.0.1",
          LOG_LEVEL: "warn",
          ...env,
        });
      const off = await start({ SQLITE_COALESCE_WAL: "off" });
      expect(off.stdout).toContain("SQLite writes each log frame in two system calls");
      expect(off.stdout).toContain("turned off (SQLITE_COALESCE_WAL=off)");
      // CI builds native/wal_coalesce.c: there the default start loads it and says nothing.
      if (process.env.CI === "true") expect((await start({})).stdout).not.toContain("two system calls");
    } finally {
      squatter.close();
    }
  }, 30_000);

  it("names DATABASE_URL, password hidden, after retrying for DATABASE_STARTUP_TIMEOUT_MS", async () => {
    const run = await sesame(["serve"], {
      DATABASE_URL: "postgres://sesame:hunter2-secret@127.0.0.1:1/sesame",
      DATABASE_STARTUP_TIMEOUT_MS: "1500",
    });
    expect(run.code).not.toBe(0);
    const lines = oneLine(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^sesame: cannot reach the database at DATABASE_URL=postgres:\/\/sesame:\*\*\*\*@127\.0\.0\.1:1\/sesame/,
    );
    expect(lines[0]).toContain("DATABASE_STARTUP_TIMEOUT_MS");
    expect(run.stderr).not.toContain("hunter2");
    // It did retry for the time given, and gave up not long after.
    expect(run.ms).toBeGreaterThan(1_500);
    expect(run.ms).toBeLessThan(15_000);
  }, 30_000);

  it("names the migration that failed", async () => {
    const file = join(tempDir(), "s.db");
    // A table in the way of the first migration.
    const sqlite = new SqliteDatabase(file);
    sqlite.exec("create table accounts (x)");
    sqlite.close();
    const run = await sesame(["migrate"], { DATABASE_URL: `sqlite:${file}` });
    expect(run.code).not.toBe(0);
    expect(oneLine(run.stderr)).toEqual([
      expect.stringMatching(/^sesame: migration 001_foundation failed: table "?accounts"? already exists$/),
    ]);
  }, 30_000);
});

describe("sesame audit verify", () => {
  it("prints every chain's head, and against saved heads names a deleted tail", async () => {
    const dir = tempDir();
    const file = join(dir, "s.db");
    const env = { DATABASE_URL: `sqlite:${file}` };
    expect((await sesame(["seed"], env)).code).toBe(0);

    const first = await sesame(["audit", "verify"], env);
    expect(first.code).toBe(0);
    const heads = oneLine(first.stdout);
    expect(heads.length).toBeGreaterThan(0);
    for (const line of heads) expect(line).toMatch(/^\S+\t\d+\t[0-9a-f]{64}$/);
    const saved = join(dir, "heads.txt");
    writeFileSync(saved, first.stdout);

    // The last entry of one chain disappears: the chain itself is still consistent.
    // (The longest chain, so that something of it remains.)
    const longest = heads.map((line) => line.split("\t")).sort((a, b) => Number(b[1]) - Number(a[1]))[0]!;
    const [stream, seq] = longest;
    expect(Number(seq)).toBeGreaterThan(1);
    const sqlite = new SqliteDatabase(file);
    sqlite.prepare("delete from audit_log where stream = ? and seq = ?").run(stream, Number(seq));
    sqlite.close();
    expect((await sesame(["audit", "verify"], env)).code).toBe(0);
    const checked = await sesame(["audit", "verify", "--heads", saved], env);
    expect(checked.code).not.toBe(0);
    expect(checked.stderr).toContain(`audit chain ${stream} ends at entry ${Number(seq) - 1}`);

    // An edited entry: named by its number.
    const edit = new SqliteDatabase(file);
    edit.prepare("update audit_log set actor = 'someone' where stream = ? and seq = 1").run(stream);
    edit.close();
    const broken = await sesame(["audit", "verify"], env);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain(`audit chain ${stream} is broken at entry 1`);
  }, 60_000);
});
