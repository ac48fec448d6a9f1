import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import pg from "pg";
import { it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type DbHandle, migrateToLatest, type OpenOptions, openDatabase } from "../src/db/database.js";
import type { OutboxRow } from "../src/messaging/outbox.js";
import type { Transport } from "../src/messaging/transports.js";
import { ManualClock, systemClock } from "../src/platform/clock.js";
import { AppError } from "../src/platform/errors.js";
import { buildApp } from "../src/server.js";

/** The code a rejected promise failed with; "resolved" when it did not fail. */
export const failure = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
};

export const API_TOKEN = "test-service-token-0123456789";
export const auth = { authorization: `Bearer ${API_TOKEN}` };
export const STRONG_PASSWORD = "violet tractor mirrors quietly 1987";
export const NEW_PASSWORD = "orange kettle whispers over Namur";

/** Which database this run uses: PostgreSQL when SESAME_TEST_DATABASE_URL is set, else SQLite. */
export const testDialect = process.env.SESAME_TEST_DATABASE_URL ? "postgres" : "sqlite";

/** The settings every test app starts from: a known secret and token, the manual clock, no per-IP limit. */
export const testEnv = {
  SESAME_SECRET: "test-secret-0123456789-0123456789-abcdef",
  SESAME_API_TOKEN: API_TOKEN,
  SESAME_CLOCK: "manual",
  SESAME_RATE_LIMIT_PER_IP: "0",
  PUBLIC_URL: "http://sesame.test",
  LOG_LEVEL: "silent",
  DATABASE_URL: "sqlite::memory:",
};

/** A log destination that keeps what was written, for tests that read the logs. */
export function logSink() {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/**
 * A test of concurrency between server nodes: it needs PostgreSQL (row locks, advisory locks, SKIP
 * LOCKED, several pools). SQLite has one writer, so there such a test would pass without its lock:
 * it is skipped, and its name says so, instead of passing vacuously.
 */
export const concurrencyTest: typeof it = (
  testDialect === "postgres"
    ? it
    : (name: string, ...rest: unknown[]) =>
        (it.skip as (...args: unknown[]) => void)(`${name} (PostgreSQL only)`, ...rest)
) as typeof it;

/**
 * Migrated PostgreSQL schemas this worker can hand out again: emptied and renamed when their test
 * is done instead of dropped. Migrating a schema takes about 250 ms, half of it Kysely's migrator
 * reading the catalogue; emptying and renaming one, about 50 ms with its connection.
 */
const spareSchemas: string[] = [];

const newSchemaName = () => `test_${randomBytes(6).toString("hex")}`;

/** The shape of a schema, its relations and their columns: a test that changed it gets it dropped. */
async function schemaShape(client: pg.Client, schema: string): Promise<string> {
  const { rows } = await client.query<{ shape: string }>(
    "select count(*) || ':' || sum(relnatts) as shape from pg_class where relnamespace = $1::regnamespace",
    [schema],
  );
  return rows[0]?.shape ?? "";
}

/** The migrated schema's shape and the statement that empties its tables (not the migrator's own). */
let migrated: { shape: string; empty: string } | undefined;
async function readMigrated(client: pg.Client, schema: string) {
  const { rows } = await client.query<{ name: string }>(
    "select tablename as name from pg_tables where schemaname = $1 and tablename not like 'kysely_migration%'",
    [schema],
  );
  // Deletes rather than truncates (truncate makes new files for each table and index: several
  // times slower), with the foreign keys' triggers off so that the order does not matter.
  const deletes = rows.map((r) => `delete from "${r.name}";`).join(" ");
  return {
    shape: await schemaShape(client, schema),
    empty: `set local session_replication_role = replica; ${deletes}`,
  };
}

/** A fresh database: SQLite in memory, or a migrated PostgreSQL schema that no other test is using. */
export async function freshDatabase(): Promise<
  DbHandle & {
    drop(): Promise<void>;
    /** Another connection pool on the same data, as a second server node has (SQLite: the same handle). */
    openAnother(options?: OpenOptions): DbHandle;
  }
> {
  const url = process.env.SESAME_TEST_DATABASE_URL;
  if (!url) {
    const handle = openDatabase({ kind: "sqlite", path: ":memory:" });
    await migrateToLatest(handle.db);
    return { ...handle, drop: handle.close, openAnother: () => ({ ...handle, close: async () => {} }) };
  }
  let schema = spareSchemas.pop();
  if (!schema) {
    schema = newSchemaName();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const migrating = openDatabase({ kind: "postgres", url }, { searchPath: schema, poolSize: 1 });
    await migrateToLatest(migrating.db, schema);
    await migrating.close();
    migrated ??= await readMigrated(admin, schema);
    await admin.end();
  }
  const handle = openDatabase({ kind: "postgres", url }, { searchPath: schema, poolSize: 4 });
  const name = schema;
  return {
    ...handle,
    openAnother: (options: OpenOptions = {}) =>
      openDatabase({ kind: "postgres", url }, { searchPath: name, poolSize: 4, ...options }),
    async drop() {
      await handle.close();
      const cleaner = new pg.Client({ connectionString: url, options: `-c search_path=${name}` });
      await cleaner.connect();
      try {
        if (migrated && (await schemaShape(cleaner, name)) === migrated.shape) {
          // Under a new name: whatever still holds this handle finds no tables, as after a drop.
          const spare = newSchemaName();
          await cleaner.query(`begin; ${migrated.empty} alter schema ${name} rename to ${spare}; commit;`);
          spareSchemas.push(spare);
        } else {
          await cleaner.query(`drop schema ${name} cascade`);
        }
      } finally {
        await cleaner.end();
      }
    },
  };
}

/** Keeps what the outbox delivered, in order, like a mailbox and a phone would. */
export class RecordingTransport implements Transport {
  readonly captured = false;
  readonly delivered: OutboxRow[] = [];
  async send(message: OutboxRow) {
    this.delivered.push(message);
  }
}

export interface TestAppOptions {
  /**
   * "record" (default): messages are delivered to in-memory recorders, read with `messages()`.
   * "configured": the app's own transports, as configured by SMTP_URL / SMS_GATEWAY_URL (or the
   * development mailbox's capture when unset).
   */
  transports?: "record" | "configured";
  /** SQLite: told the text of each statement that transactions run directly on the connection. */
  onStatement?: (sql: string) => void;
}

export async function testApp(env: Record<string, string> = {}, options: TestAppOptions = {}) {
  const database = await freshDatabase();
  const { statementOf } = database;
  const onStatement = options.onStatement;
  if (statementOf && onStatement)
    database.statementOf = (text) => {
      onStatement(text);
      return statementOf(text);
    };
  const config = loadConfig({
    ...testEnv,
    // The story is Belgian: a number typed the Belgian way (0470 …) is read as +32.
    SESAME_DEFAULT_COUNTRY: "BE",
    ...env,
  });
  const clock = config.clock === "manual" ? new ManualClock(Date.UTC(2026, 10, 26, 9, 0, 0)) : systemClock;
  const mail = new RecordingTransport();
  const sms = new RecordingTransport();
  const app = await buildApp({
    config,
    database,
    clock,
    logger: false,
    ...(options.transports === "configured" ? {} : { transports: { email: mail, sms } }),
  });
  await app.server.ready();

  const messages = async () => {
    await app.dispatcher.drain();
    return [...mail.delivered.map((m) => ({ ...m })), ...sms.delivered.map((m) => ({ ...m }))];
  };
  /** The last 6-digit code delivered to `recipient`. */
  const lastCodeFor = async (recipient: string): Promise<string | null> => {
    const all = (await messages()).filter((m) => m.recipient === recipient);
    const body = all.at(-1)?.body ?? "";
    return /\b(\d{6})\b/.exec(body)?.[1] ?? null;
  };

  return {
    app,
    server: app.server,
    /** The manual clock (tests that ask for the system clock must not move it). */
    clock: clock as ManualClock,
    config,
    database,
    mail,
    sms,
    messages,
    lastCodeFor,
    close: async () => {
      await app.server.close();
      await database.drop();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof testApp>>;

/**
 * A browser without JavaScript, through `inject`: keeps cookies (and their attributes), reads the
 * form's CSRF token and sends it back, follows no redirect by itself.
 */
export function formClient(t: TestApp, options: { acceptLanguage?: string } = {}) {
  const jar = new Map<string, string>();
  const attributes = new Map<string, string>();
  let csrf = "";
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const read = <R extends { headers: Record<string, unknown>; body: string }>(response: R): R => {
    for (const line of [(response.headers["set-cookie"] as string | string[] | undefined) ?? []].flat()) {
      const [pair = ""] = line.split(";");
      const [name = "", value = ""] = pair.split("=");
      jar.set(name, value);
      attributes.set(name, line);
    }
    csrf = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1] ?? csrf;
    return response;
  };
  const language = options.acceptLanguage ? { "accept-language": options.acceptLanguage } : {};
  return {
    jar,
    attributes,
    get: async (url: string) =>
      read(await t.server.inject({ url, headers: { cookie: cookie(), ...language } })),
    post: async (url: string, fields: Record<string, string>, token = csrf) =>
      read(
        await t.server.inject({
          method: "POST",
          url,
          headers: { cookie: cookie(), "content-type": "application/x-www-form-urlencoded" },
          payload: new URLSearchParams({ _csrf: token, ...fields }).toString(),
        }),
      ),
  };
}

/** Locks an account through the service API. */
export async function lockAccount(t: TestApp, address: string, reason = "compromise") {
  const response = await t.server.inject({
    method: "POST",
    url: `/api/v1/accounts/${address}/lock`,
    headers: auth,
    payload: { reason },
  });
  if (response.statusCode !== 200)
    throw new Error(`account not locked: ${response.statusCode} ${response.body}`);
}

/** Creates an account through the service API. */
export async function createAccount(t: TestApp, body: Record<string, unknown>) {
  const response = await t.server.inject({
    method: "POST",
    url: "/api/v1/accounts",
    headers: auth,
    payload: { password: STRONG_PASSWORD, ...body },
  });
  if (response.statusCode !== 201)
    throw new Error(`account not created: ${response.statusCode} ${response.body}`);
  return response.json() as { id: string; address: string; status: string };
}

export const maria = {
  address: "maria-rosa@hotmail.example",
  locale: "fr",
  country: "BE",
  alternates: [
    { kind: "email", value: "maria-rosa@gmail.example", verified: true },
    { kind: "phone", value: "+32 470 12 34 56", verified: true },
    { kind: "email", value: "old-address@yahoo.example", verified: false },
  ],
};

/** The story's account: Maria-Rosa's mailbox, locked as compromised after the virus. */
export async function createLockedMaria(t: TestApp) {
  await createAccount(t, maria);
  await lockAccount(t, maria.address);
}
