import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from "kysely";
import pg from "pg";
import type { Config } from "../config.js";
import * as m001 from "./migrations/001_foundation.js";
import * as m004 from "./migrations/004_recovery_cases.js";
import type { Database } from "./schema.js";

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Anything queries can run on: the database itself or an open transaction. */
export type Executor = Db | Tx;
export type Dialect = "sqlite" | "postgres";

export interface DbHandle {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

// PostgreSQL returns int8 as strings; our int8 columns hold epoch-ms, well inside 2^53.
const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * Kysely prepares every statement anew on better-sqlite3; the same few SQL texts repeat on every
 * request, so reuse their prepared statements (a bounded cache, oldest out first). Sesame never
 * streams rows, so a statement is never busy when it is reused.
 */
function withStatementCache(sqlite: SqliteDatabase.Database, capacity = 500) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (cache.size >= capacity) cache.delete(cache.keys().next().value!);
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

export interface OpenOptions {
  /** PostgreSQL schema to work in (tests give each file its own). */
  searchPath?: string;
  poolSize?: number;
}

export function openDatabase(database: Config["database"], options: OpenOptions = {}): DbHandle {
  if (database.kind === "sqlite") {
    const sqlite = new SqliteDatabase(database.path);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("busy_timeout = 5000");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    return { db, dialect: "sqlite", close: () => db.destroy() };
  }
  const pool = new pg.Pool({
    connectionString: database.url,
    max: options.poolSize ?? 10,
    types: pgTypes,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: "postgres", close: () => db.destroy() };
}

export const migrations = { "001_foundation": m001, "004_recovery_cases": m004 };

/**
 * Applies pending migrations. `schema` names the PostgreSQL schema that holds Kysely's own migration
 * tables; give it whenever the database has several Sesame schemas (the tests do), or Kysely may
 * find another schema's tables and skip creating its own.
 */
export async function migrateToLatest(db: Kysely<Database>, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

export async function isReady(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/**
 * Serialises writers of one key until the transaction ends (PostgreSQL, several nodes). SQLite has
 * a single writer already, so there it is a no-op.
 */
export async function lockKey(tx: Tx, dialect: Dialect, key: string): Promise<void> {
  if (dialect === "postgres") await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
}
