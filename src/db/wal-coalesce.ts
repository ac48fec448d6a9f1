import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type SqliteDatabase from "better-sqlite3";

/** Built by `npm run build` (native/build.mjs): the same path from src/ and from dist/. */
export const EXTENSION_PATH = fileURLToPath(new URL("../../native/build/wal_coalesce.so", import.meta.url));

export type WalCoalescing = { active: true } | { active: false; reason: string };

let loaded = false;

/**
 * Registers native/wal_coalesce.c's VFS as SQLite's default, once per process, so that every
 * connection opened afterwards writes each commit's WAL frames in a few system calls instead of two
 * a frame. Without the built extension (no C compiler at install), or when `disabled`, SQLite's
 * own VFS stays: the same files and the same durability, a slower commit. Once loaded it stays for
 * the life of the process.
 */
export function coalesceWalWrites(Sqlite: typeof SqliteDatabase, disabled = false): WalCoalescing {
  if (loaded) return { active: true };
  if (disabled) return { active: false, reason: "turned off (SQLITE_COALESCE_WAL=off)" };
  if (!existsSync(EXTENSION_PATH)) return { active: false, reason: `${EXTENSION_PATH} was not built` };
  const probe = new Sqlite(":memory:");
  try {
    // Its entry point, sqlite3_walcoalesce_init, is the one SQLite derives from the file name.
    probe.loadExtension(EXTENSION_PATH);
    loaded = true;
    return { active: true };
  } catch (error) {
    return { active: false, reason: `${EXTENSION_PATH} did not load: ${(error as Error).message}` };
  } finally {
    probe.close();
  }
}
