import { createRequire } from "node:module";
import type SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from "kysely";
import type pg from "pg";
import { agentsMigrations } from "../agents/migrations/index.js";
import type { Config, DatabaseTimeouts } from "../config.js";
import { deskMigrations } from "../desk/migrations/index.js";
import { mailMigrations } from "../messaging/migrations/index.js";
import { recoveryMigrations } from "../recovery/migrations/index.js";
import { timersMigrations } from "../timers/migrations/index.js";
import { BACKSTOP_CHECKPOINT_PAGES, startCheckpointer, WAL_FILE_LIMIT_BYTES } from "./checkpointer.js";
import * as m001 from "./migrations/001_foundation.js";
import * as m002 from "./migrations/002_messaging.js";
import * as m003 from "./migrations/003_accounts_hardening.js";
import * as m004 from "./migrations/004_recovery_cases.js";
import { directWhenIdle, type StatementOf } from "./prepared.js";
import type { Database } from "./schema.js";
import { coalesceWalWrites, type WalCoalescing } from "./wal-coalesce.js";

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Anything queries can run on: the database itself or an open transaction. */
export type Executor = Db | Tx;
export type Dialect = "sqlite" | "postgres";

export interface DbHandle {
  db: Db;
  dialect: Dialect;
  /** SQLite: the connection's statements, for transactions that run prepared queries directly. */
  statementOf?: StatementOf;
  health: DatabaseHealth;
  /** SQLite: whether commits write their log frames through native/wal_coalesce.c (see wal-coalesce.ts). */
  walCoalescing?: WalCoalescing;
  close(): Promise<void>;
}

/**
 * What the process knows of the database's reachability: a short circuit-breaker. After a
 * connection-class failure, requests answer 503 at once for `holdMs` instead of each waiting a
 * connect timeout; the next request after that (or a /readyz probe) tries the database again.
 */
export class DatabaseHealth {
  private downUntil = 0;
  /** Where pool and connection errors are logged (the server's logger, once it exists). */
  log: (error: Error, what: string) => void = () => {};

  constructor(private readonly holdMs = 1_000) {}

  get knownDown(): boolean {
    return performance.now() < this.downUntil;
  }

  markDown(): void {
    this.downUntil = performance.now() + this.holdMs;
  }

  markUp(): void {
    this.downUntil = 0;
  }
}

const PG_UNAVAILABLE_STATES = new Set([
  "57P01", // admin_shutdown (pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down)
  "53300", // too_many_connections
  "57014", // query_canceled: statement_timeout
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|PROTOCOL)/;
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error/;

/**
 * True for failures that mean "the database cannot be reached or cannot answer now" (as opposed to
 * a bug or a constraint): they become 503 ERR_UNAVAILABLE, not 500.
 */
export function isUnavailableError(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code) || PG_UNAVAILABLE_STATES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code) || SQLITE_UNAVAILABLE.test(code)) return true;
  }
  if (PG_CONNECTION_MESSAGES.test(error.message)) return true;
  const inner = [error.cause, ...(error instanceof AggregateError ? error.errors : [])];
  return inner.some((e) => isUnavailableError(e, depth + 1));
}

/** pg's "no connection became free in time": the pool is busy (or cannot connect at all). */
export const isPoolWaitTimeout = (error: unknown): boolean =>
  error instanceof Error && /timeout exceeded when trying to connect/.test(error.message);

// Each driver is loaded by the first database of its kind (synchronously, as openDatabase is): a
// SQLite deployment never loads pg, a PostgreSQL one never loads better-sqlite3.
const load = createRequire(import.meta.url);

// PostgreSQL returns int8 as strings; our int8 columns hold epoch-ms, well inside 2^53.
const pgTypes = (types: typeof pg.types) => ({
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === types.builtins.INT8) return (value: string) => Number(value);
    return types.getTypeParser(oid, format);
  },
});

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
  timeouts?: DatabaseTimeouts;
}

/** SQLite's page cache of the server's connection, in KiB. */
export const PAGE_CACHE_KIB = 8_000;

export const defaultTimeouts: DatabaseTimeouts = { connectMs: 2_000, statementMs: 5_000 };

export function openDatabase(database: Config["database"], options: OpenOptions = {}): DbHandle {
  const timeouts = options.timeouts ?? defaultTimeouts;
  const health = new DatabaseHealth();
  if (database.kind === "sqlite") {
    const Sqlite = load("better-sqlite3") as typeof SqliteDatabase;
    const walCoalescing = coalesceWalWrites(Sqlite, database.coalesceWal === false);
    const sqlite = new Sqlite(database.path);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    // The group commit runs each use-case in a savepoint, and SQLite keeps the pages a savepoint
    // changes in a sub-journal: past 64 KiB that spilled to a temporary file, and a code request
    // (five rows, a dozen pages) wrote each page there once more (its inserts took 3 times as long).
    sqlite.pragma("temp_store = MEMORY");
    // better-sqlite3 builds SQLite with a 16 MB page cache; under a flood of code requests it filled
    // within seconds and was a tenth of the resident memory. At 8 MB a code request reads about 0.2
    // pages back from the OS's cache (a system call each), for 7-8 MiB less (docs/benchmarks.md).
    sqlite.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    sqlite.pragma(`busy_timeout = ${timeouts.statementMs}`);
    // Two caches: the direct path reads rows as arrays (prepared.ts), Kysely's as objects.
    const direct = withStatementCache(sqlite);
    const statementOf: StatementOf = (text) => direct.prepare(text);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    directWhenIdle(db, statementOf, () => sqlite.inTransaction);
    if (!sqlite.memory) {
      sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
      // The log's file is cut back to this size when it starts over past it (see checkpointer.ts).
      sqlite.pragma(`journal_size_limit = ${WAL_FILE_LIMIT_BYTES}`);
      const checkpointer = startCheckpointer(database.path);
      return {
        db,
        dialect: "sqlite",
        statementOf,
        health,
        walCoalescing,
        close: async () => {
          await checkpointer.stop();
          await db.destroy();
        },
      };
    }
    return { db, dialect: "sqlite", statementOf, health, walCoalescing, close: () => db.destroy() };
  }
  const { Pool, types } = load("pg") as typeof pg;
  const pool = new Pool({
    connectionString: database.url,
    max: options.poolSize ?? 10,
    types: pgTypes(types),
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    // Client side too: a server that vanished without a reset never answers at all.
    query_timeout: timeouts.statementMs + timeouts.connectMs,
    keepAlive: true,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  });
  // An unhandled 'error' event kills the process: an idle client's error reaches the pool, a
  // checked-out client's error reaches the client itself (its query then fails on its own).
  pool.on("error", (error) => {
    health.markDown();
    health.log(error, "idle database connection failed");
  });
  pool.on("connect", (client) => {
    client.on("error", (error) => {
      health.markDown();
      health.log(error, "database connection failed");
    });
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: "postgres", health, close: () => db.destroy() };
}

export const migrations = {
  "001_foundation": m001,
  "002_messaging": m002,
  "003_accounts_hardening": m003,
  "004_recovery_cases": m004,
  // Each feature owns its migrations; the names keep one order across them.
  ...timersMigrations,
  ...deskMigrations,
  ...agentsMigrations,
  ...mailMigrations,
  ...recoveryMigrations,
};

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
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw failed ? new MigrationError(failed.migrationName, error) : error;
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

export class MigrationError extends Error {
  constructor(
    readonly migrationName: string,
    cause: unknown,
  ) {
    super(`migration ${migrationName} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = "MigrationError";
  }
}

/** A trivial query, raced against `withinMs`: readiness probes must answer fast even when the database hangs. */
export async function isReady(db: Db, withinMs = 900): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), withinMs);
  });
  const probe = sql`select 1`.execute(db).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serialises writers of one key until the transaction ends (PostgreSQL, several nodes). SQLite has
 * a single writer already, so there it is a no-op.
 */
export async function lockKey(tx: Tx, dialect: Dialect, key: string): Promise<void> {
  if (dialect === "postgres") await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
}
