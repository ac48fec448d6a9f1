import { randomBytes } from "node:crypto";
import { type AddressInfo, createServer } from "node:net";
import SqliteDatabase from "better-sqlite3";
import { sql } from "kysely";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import {
  auth,
  concurrencyTest,
  createLockedMaria,
  maria,
  RecordingTransport,
  testApp,
  testEnv,
} from "../../test/helpers.js";
import { loadConfig } from "../config.js";
import { type DbHandle, isUnavailableError, migrateToLatest, openDatabase } from "../db/database.js";
import { OutboxDispatcher } from "../messaging/dispatcher.js";
import { enqueueMessage } from "../messaging/outbox.js";
import { buildApp } from "../server.js";
import { ManualClock } from "./clock.js";
import { serveMetrics } from "./metrics.js";

const pgUrl = process.env.SESAME_TEST_DATABASE_URL;
const silent = { warn() {}, error() {}, info() {} } as never;
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const env = testEnv;

/** An app on a database handle the test controls. */
async function appOn(database: DbHandle) {
  const transport = new RecordingTransport();
  const app = await buildApp({
    config: loadConfig(env),
    database,
    clock: new ManualClock(Date.UTC(2026, 10, 26, 9)),
    logger: false,
    transports: { email: transport, sms: transport },
  });
  await app.server.ready();
  cleanup.push(() => app.server.close());
  return { app, transport };
}

describe("when the database goes away", () => {
  it("answers /readyz 503 and every request 503 fast, with a pool pointed at a closed port", async () => {
    // A port nobody listens on: connections are refused at once.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const database = openDatabase({ kind: "postgres", url: `postgres://sesame:pw@127.0.0.1:${port}/none` });
    cleanup.push(() => database.close());
    const { app } = await appOn(database);

    // The first request finds out by itself (no probe has run yet).
    let started = performance.now();
    const read = await app.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(read.statusCode).toBe(503);
    expect(read.headers["retry-after"]).toBe("5");
    expect(read.json().error).toMatchObject({ code: "ERR_UNAVAILABLE" });

    started = performance.now();
    const ready = await app.server.inject({ url: "/readyz" });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: "unavailable" });

    // A page gets the localised error page with the same status.
    const page = await app.server.inject({ url: "/signin?lang=fr", method: "POST", payload: {} });
    expect(page.statusCode).toBe(503);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain("momentanément indisponible");
  });

  it("answers /readyz 503 within a second when the database accepts connections but never answers", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const silentServer = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silentServer.listen(0, "127.0.0.1", resolve));
    cleanup.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silentServer.close(resolve));
    });
    const port = (silentServer.address() as AddressInfo).port;
    const database = openDatabase({ kind: "postgres", url: `postgres://sesame:pw@127.0.0.1:${port}/none` });
    cleanup.push(() => database.close());
    const { app } = await appOn(database);
    const started = performance.now();
    const ready = await app.server.inject({ url: "/readyz" });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(ready.statusCode).toBe(503);
    // And a request gives up after the connect timeout (2 s by default) with a 503, not a hang.
    const read = await app.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
    expect(read.statusCode).toBe(503);
  });

  it("answers /readyz 503 once the database handle is gone, and a 500 carries its correlation id", async () => {
    const t = await testApp();
    cleanup.push(() => t.close());
    expect((await t.server.inject({ url: "/readyz" })).json()).toEqual({
      status: "ready",
      channels: { email: true, sms: true },
    });
    // Closed under the app's feet: not a connection failure, a bug-class error.
    await t.database.db.destroy();
    const broken = await t.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
    expect(broken.statusCode).toBe(500);
    const error = broken.json().error;
    expect(error.code).toBe("ERR_INTERNAL");
    expect(error.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.message).toContain(error.correlationId);
    expect(broken.body).not.toMatch(/destroyed|kysely|stack/i);
    expect((await t.server.inject({ url: "/readyz" })).statusCode).toBe(503);
  });

  it("classes real connection failures as unavailable, and not other errors", async () => {
    const file = `/tmp/sesame-busy-${randomBytes(4).toString("hex")}.db`;
    const holder = new SqliteDatabase(file);
    const waiter = new SqliteDatabase(file);
    try {
      holder.exec("create table t (x); begin exclusive");
      waiter.pragma("busy_timeout = 0");
      let busy: unknown;
      try {
        waiter.exec("insert into t values (1)");
      } catch (error) {
        busy = error;
      }
      expect(isUnavailableError(busy)).toBe(true);
      let constraint: unknown;
      try {
        holder.exec("create table t (x)");
      } catch (error) {
        constraint = error;
      }
      expect(isUnavailableError(constraint)).toBe(false);
      expect(isUnavailableError(new Error("boom"))).toBe(false);
    } finally {
      holder.close();
      waiter.close();
    }
  });

  it.runIf(pgUrl)("cuts a statement at DATABASE_STATEMENT_TIMEOUT_MS (PostgreSQL only)", async () => {
    const config = loadConfig({
      ...env,
      DATABASE_STATEMENT_TIMEOUT_MS: "200",
      DATABASE_CONNECT_TIMEOUT_MS: "500",
    });
    expect(config.databaseTimeouts).toEqual({ connectMs: 500, statementMs: 200 });
    const database = openDatabase({ kind: "postgres", url: pgUrl! }, { timeouts: config.databaseTimeouts });
    cleanup.push(() => database.close());
    const started = performance.now();
    const error = await sql`select pg_sleep(3)`.execute(database.db).then(
      () => null,
      (e: unknown) => e,
    );
    expect(performance.now() - started).toBeLessThan(2_000);
    expect((error as { code?: string }).code).toBe("57014");
    expect(isUnavailableError(error)).toBe(true);
  });

  it("has database timeouts as settings with sane defaults", () => {
    expect(loadConfig(env).databaseTimeouts).toEqual({ connectMs: 2_000, statementMs: 5_000 });
    expect(loadConfig(env).databaseStartupTimeoutMs).toBe(30_000);
    expect(() => loadConfig({ ...env, DATABASE_STATEMENT_TIMEOUT_MS: "soon" })).toThrow(
      /DATABASE_STATEMENT_TIMEOUT_MS/,
    );
  });

  concurrencyTest(
    "survives pg_terminate_backend while requests run: 503 or success, then everything works and queued mail goes out once",
    async () => {
      const url = pgUrl!;
      // A schema and an application_name of our own: we terminate only this test's backends.
      const tag = `sesame_outage_${randomBytes(5).toString("hex")}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      cleanup.push(async () => {
        await admin.query(`drop schema if exists ${tag} cascade`);
        await admin.end();
      });
      await admin.query(`create schema ${tag}`);
      const database = openDatabase(
        { kind: "postgres", url: `${url}?application_name=${tag}` },
        { searchPath: tag, poolSize: 8 },
      );
      cleanup.push(() => database.close());
      await migrateToLatest(database.db, tag);
      const { app, transport } = await appOn(database);
      const t = { server: app.server } as Parameters<typeof createLockedMaria>[0];
      await createLockedMaria(t);

      const clock = new ManualClock(Date.UTC(2026, 10, 26, 9));
      await database.db.transaction().execute(async (tx) => {
        for (let i = 0; i < 40; i++)
          await enqueueMessage(tx, clock.now(), app.platform.secrets, {
            channel: "email",
            recipient: `r${i}@x.example`,
            body: `queued ${i}`,
          });
      });
      const dispatcher = new OutboxDispatcher(
        database.db,
        database.dialect,
        clock,
        app.platform.secrets,
        { email: transport, sms: transport },
        silent,
      );

      const terminate = () =>
        admin.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = $1 and pid <> pg_backend_pid()",
          [tag],
        );
      const statuses: number[] = [];
      const request = async (i: number) => {
        const response =
          i % 2
            ? await app.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth })
            : await app.server.inject({
                method: "POST",
                url: "/api/v1/recovery",
                payload: { address: `someone${i}@x.example` },
              });
        statuses.push(response.statusCode);
        if (response.statusCode === 503) expect(response.json().error.code).toBe("ERR_UNAVAILABLE");
      };
      const started = performance.now();
      await Promise.all([
        ...Array.from({ length: 60 }, (_, i) => request(i)),
        dispatcher.drain(),
        (async () => {
          for (let round = 0; round < 5; round++) {
            await terminate();
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })(),
        dispatcher.drain(),
      ]);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(statuses).toHaveLength(60);
      for (const status of statuses) expect([200, 201, 503]).toContain(status);

      // Back by itself: readiness, requests and the outbox.
      await expect
        .poll(async () => (await app.server.inject({ url: "/readyz" })).statusCode, { timeout: 5_000 })
        .toBe(200);
      const read = await app.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
      expect(read.statusCode).toBe(200);
      for (let i = 0; i < 5; i++) await dispatcher.drain();
      const queued = transport.delivered.map((m) => m.body).filter((b) => b.startsWith("queued"));
      expect(queued).toHaveLength(40);
      expect(new Set(queued).size).toBe(40);
      const pending = await database.db
        .selectFrom("outbox")
        .select("id")
        .where("status", "!=", "sent")
        .execute();
      expect(pending).toEqual([]);
    },
    30_000,
  );
});

describe("metrics", () => {
  it("are served on their own listener, and the public port answers 404", async () => {
    const t = await testApp();
    cleanup.push(() => t.close());
    await t.server.inject({ url: "/healthz" });
    expect((await t.server.inject({ url: "/metrics" })).statusCode).toBe(404);

    const listener = await serveMetrics(t.app.metrics, "127.0.0.1", 0);
    cleanup.push(() => new Promise((resolve) => listener.close(() => resolve())));
    const { port } = listener.address() as AddressInfo;
    const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(scraped.status).toBe(200);
    const text = await scraped.text();
    expect(text).toContain(
      'sesame_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1',
    );
    expect(text).toContain("sesame_outbox_pending 0");
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
  });

  it("are off with METRICS_PORT=0 and bound to 127.0.0.1 by default", () => {
    expect(loadConfig(env).metrics).toEqual({ port: 9464, host: "127.0.0.1" });
    expect(loadConfig({ ...env, METRICS_PORT: "0" }).metrics).toBeNull();
    expect(() => loadConfig({ ...env, METRICS_PORT: "99999" })).toThrow(/METRICS_PORT/);
  });
});
