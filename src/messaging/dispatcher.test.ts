import { afterEach, describe, expect, it } from "vitest";
import { freshDatabase, RecordingTransport, testDialect } from "../../test/helpers.js";
import { ManualClock } from "../platform/clock.js";
import { Secrets } from "../platform/secrets.js";
import { OutboxDispatcher } from "./dispatcher.js";
import { enqueueMessage } from "./outbox.js";

const silent = { warn() {}, error() {} } as never;
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe("outbox dispatch", () => {
  it(`sends each message once with three nodes draining at the same time (${testDialect})`, async () => {
    const database = await freshDatabase();
    cleanup.push(() => database.drop());
    const clock = new ManualClock();
    const secrets = new Secrets("dispatch-test-secret-0123456789abcdef");
    await database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 60; i++) {
        await enqueueMessage(tx, clock.now(), secrets, {
          channel: i % 2 ? "sms" : "email",
          recipient: `r${i}`,
          body: `message ${i}`,
        });
      }
    });

    // Each node has its own connection pool, as separate processes would (SQLite: one node only).
    const nodes = [database, database.openAnother(), database.openAnother()];
    cleanup.push(async () => {
      for (const node of nodes.slice(1)) await node.close();
    });
    const transport = new RecordingTransport();
    const dispatchers = nodes.map(
      (node) =>
        new OutboxDispatcher(
          node.db,
          node.dialect,
          clock,
          secrets,
          { email: transport, sms: transport },
          silent,
        ),
    );
    await Promise.all(dispatchers.map((d) => d.drain()));

    const delivered = transport.delivered.map((m) => m.body).sort();
    expect(delivered).toHaveLength(60);
    expect(new Set(delivered).size).toBe(60);
    const rows = await database.db.selectFrom("outbox").select(["status", "body"]).execute();
    expect(rows.every((r) => r.status === "sent")).toBe(true);
    // Once on its way, a message keeps no body (it may hold a code).
    expect(rows.every((r) => r.body === "")).toBe(true);
  });
});
