// Builds the SQLite extension in native/ (see wal_coalesce.c) with the machine's C compiler, against
// the SQLite headers better-sqlite3 ships. Optional: without a compiler Sesame runs on SQLite's own
// VFS (each WAL frame two system calls) and says so once at start.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, "build", "wal_coalesce.so");
const headers = join(dirname(createRequire(import.meta.url).resolve("better-sqlite3/package.json")), "deps", "sqlite3");
const compiler = process.env.CC || "cc";

rmSync(output, { force: true });
if (process.platform === "win32") {
  console.warn("native: not built on Windows; SQLite's own VFS is used");
  process.exit(0);
}
mkdirSync(dirname(output), { recursive: true });
const args = ["-O2", "-Wall", "-Wextra", "-fPIC", "-shared", "-I", headers, join(here, "wal_coalesce.c"), "-o", output];
const build = spawnSync(compiler, args, { stdio: "inherit" });
if (build.status !== 0)
  console.warn(`native: ${compiler} could not build wal_coalesce.c (${build.error?.message ?? `exit ${build.status}`}); SQLite's own VFS is used`);
