import { setImmediate as yieldToOthers } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import {
  concurrencyTest,
  createLockedMaria,
  freshDatabase,
  RecordingTransport,
  testApp,
} from "../../test/helpers.js";
import type { Executor } from "../db/database.js";
import { ManualClock } from "../platform/clock.js";
import { Secrets } from "../platform/secrets.js";
import { codeSecretsOf } from "./code-message.js";
import { type DispatcherTiming, OutboxDispatcher } from "./dispatcher.js";
import { CLAIM_MS, claimDueMessages, enqueueMessage, MAX_ATTEMPTS, type OutboxRow } from "./outbox.js";
import type { Transport } from "./transports.js";

const silent = { warn() {}, error() {}, info() {} } as never;
const secrets = new Secrets("dispatch-test-secret-0123456789abcdef");
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

type Database = Awaited<ReturnType<typeof freshDatabase>>;

async function setup(count = 3) {
  const database = await freshDatabase();
  cleanup.push(() => database.drop());
  const clock = new ManualClock(1_000_000);
  await queue(database, clock, count);
  return { database, clock };
}

const queue = (database: Database, clock: ManualClock, count: number, from = 0) =>
  database.db.transaction().execute(async (tx) => {
    for (let i = from; i < from + count; i++) {
      await enqueueMessage(tx, clock.now(), secrets, {
        channel: i % 2 ? "sms" : "email",
        recipient: `r${i}`,
        body: `message ${i}`,
      });
    }
  });

const dispatcherOn = (
  database: Database,
  clock: ManualClock,
  transport: Transport,
  timing: Partial<DispatcherTiming> = {},
  transact?: <T>(work: (tx: Executor) => Promise<T>) => Promise<T>,
) =>
  new OutboxDispatcher(
    database.db,
    database.dialect,
    clock,
    secrets,
    { email: transport, sms: transport },
    silent,
    timing,
    transact,
  );

const rows = (database: Database) =>
  database.db.selectFrom("outbox").selectAll().orderBy("recipient").execute() as Promise<OutboxRow[]>;

/** A transport that is down: every send throws. */
const downTransport: Transport = {
  captured: false,
  send: async () => {
    throw new Error("relay refused");
  },
};

describe("outbox dispatch", () => {
  concurrencyTest("sends each message once with six nodes draining at the same time", async () => {
    const { database, clock } = await setup(0);
    await queue(database, clock, 200);
    // Each node has its own connection pool, as separate processes would.
    const nodes = [database, ...Array.from({ length: 5 }, () => database.openAnother())];
    cleanup.push(async () => {
      for (const node of nodes.slice(1)) await node.close();
    });
    // A transport that yields, as a network send does, so the nodes' claims interleave.
    const delivered: string[] = [];
    const transport: Transport = {
      captured: false,
      async send(message) {
        await yieldToOthers();
        delivered.push(message.body);
      },
    };
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

    expect(delivered).toHaveLength(200);
    expect(new Set(delivered).size).toBe(200);
    const all = await rows(database);
    expect(all.every((r) => r.status === "sent")).toBe(true);
    // Once on its way, a message keeps no body (it may hold a code).
    expect(all.every((r) => r.body === "")).toBe(true);
  });

  it("sends a message queued while a round was delivering in the round its wake-up starts, not at the next poll", async () => {
    const { database, clock } = await setup(1);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let delivering!: () => void;
    const firstSend = new Promise<void>((resolve) => {
      delivering = resolve;
    });
    const delivered: string[] = [];
    const transport: Transport = {
      captured: false,
      async send(message) {
        if (delivered.length === 0 && message.body === "message 0") {
          delivering();
          await held;
        }
        delivered.push(message.body);
      },
    };
    const dispatcher = dispatcherOn(database, clock, transport, { pollMs: 3_600_000 });
    cleanup.push(() => dispatcher.stop());
    dispatcher.start();
    await firstSend;
    // Its claim found one message, fewer than a batch: the round ends without claiming again.
    await queue(database, clock, 1, 1);
    dispatcher.wake();
    release();
    await expect.poll(() => delivered, { timeout: 5_000 }).toEqual(["message 0", "message 1"]);
  });

  it("forgets the body of a message that left, keeps the one captured for the development mailbox", async () => {
    const { database, clock } = await setup(2);
    await dispatcherOn(database, clock, new RecordingTransport()).drain();
    const sent = await rows(database);
    expect(sent.map((r) => [r.status, r.attempts, r.body])).toEqual([
      ["sent", 1, ""],
      ["sent", 1, ""],
    ]);
    expect(sent.every((r) => r.sent_at === clock.now() && r.claimed_until === null)).toBe(true);

    await queue(database, clock, 2, 2);
    await dispatcherOn(database, clock, { captured: true, send: async () => {} }).drain();
    const captured = (await rows(database)).slice(2);
    expect(captured.map((r) => [r.status, r.attempts])).toEqual([
      ["sent", 1],
      ["sent", 1],
    ]);
    expect(captured.map((r) => secrets.unseal(r.body))).toEqual(["message 2", "message 3"]);
  });

  it("claims a round, settles what carries a dead code and records what it sent in two writes, not one a message", async () => {
    const { database, clock } = await setup(4);
    // A code that no longer exists (voided and gone): settled in the claim's write.
    await database.db.transaction().execute((tx) =>
      enqueueMessage(tx, clock.now(), secrets, {
        channel: "email",
        recipient: "r9",
        body: "x",
        codeId: "gone",
      }),
    );
    let writes = 0;
    const counting = <T>(work: (tx: Executor) => Promise<T>) => {
      writes++;
      return database.db.transaction().execute(work);
    };
    const transport = new RecordingTransport();
    await dispatcherOn(database, clock, transport, {}, counting).drain();
    expect(transport.delivered.map((m) => m.recipient).sort()).toEqual(["r0", "r1", "r2", "r3"]);
    expect((await rows(database)).map((r) => r.status)).toEqual(["sent", "sent", "sent", "sent", "voided"]);
    expect(writes).toBe(2);
  });

  it("gives up after the last attempt, and the message given up on forgets its body", async () => {
    const { database, clock } = await setup(1);
    const dispatcher = dispatcherOn(database, clock, downTransport);
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      await dispatcher.drain();
      const [row] = await rows(database);
      expect(row).toMatchObject({ status: "pending", attempts: attempt });
      expect(row!.body).not.toBe("");
      clock.advance(Number(row!.next_attempt_at) - clock.now());
    }
    await dispatcher.drain();
    const [row] = await rows(database);
    expect(row).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, body: "" });
    expect(row!.last_error).toContain("relay refused");
    // Given up means given up: no further attempt, however long we wait.
    clock.advance(365 * 24 * 3600_000);
    const transport = new RecordingTransport();
    await dispatcherOn(database, clock, transport).drain();
    expect(transport.delivered).toEqual([]);
  });

  it("takes back the claim of a crashed node once the claim time is over, not before", async () => {
    const { database, clock } = await setup(3);
    // A node claims the batch, then dies before sending anything.
    expect(await claimDueMessages(database.db, database.dialect, clock)).toHaveLength(3);
    const transport = new RecordingTransport();
    const survivor = dispatcherOn(database, clock, transport);

    clock.advance(CLAIM_MS - 1);
    await survivor.drain();
    expect(transport.delivered).toEqual([]);

    clock.advance(2);
    await survivor.drain();
    expect(transport.delivered.map((m) => m.recipient).sort()).toEqual(["r0", "r1", "r2"]);
    expect((await rows(database)).map((r) => r.status)).toEqual(["sent", "sent", "sent"]);
  });

  it("refuses a tampered sealed body: not sent, marked failed, and the others still go out", async () => {
    const { database, clock } = await setup(3);
    const [victim] = await rows(database);
    const [version, iv, tag, body] = victim!.body.split(".");
    // One bit flipped in the ciphertext: the authentication tag no longer matches.
    const flipped = Buffer.from(body!, "base64url");
    flipped[0]! ^= 1;
    await database.db
      .updateTable("outbox")
      .set({ body: [version, iv, tag, flipped.toString("base64url")].join(".") })
      .where("id", "=", victim!.id)
      .execute();

    const transport = new RecordingTransport();
    await dispatcherOn(database, clock, transport).drain();
    expect(transport.delivered.map((m) => m.recipient).sort()).toEqual(["r1", "r2"]);
    const after = await rows(database);
    expect(after[0]).toMatchObject({ id: victim!.id, status: "failed", body: "" });
    expect(after.slice(1).map((r) => r.status)).toEqual(["sent", "sent"]);
    // Not retried later either.
    clock.advance(24 * 3600_000);
    await dispatcherOn(database, clock, transport).drain();
    expect(transport.delivered).toHaveLength(2);
  });

  it("delivers when woken after start, not after stop, and stop waits for the running drain", async () => {
    const { database, clock } = await setup(0);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const delivered: string[] = [];
    let sending = false;
    const transport: Transport = {
      captured: false,
      async send(message) {
        sending = true;
        await gate;
        delivered.push(message.recipient);
      },
    };
    const dispatcher = dispatcherOn(database, clock, transport);
    cleanup.push(() => dispatcher.stop());

    // Not started: a wake does nothing.
    await queue(database, clock, 1, 0);
    dispatcher.wake();
    await yieldToOthers();
    expect(sending).toBe(false);

    // Started: it drains by itself; stop() resolves only once the send in progress has finished.
    dispatcher.start();
    await expect.poll(() => sending).toBe(true);
    let stopped = false;
    const stopping = dispatcher.stop().then(() => {
      stopped = true;
    });
    await yieldToOthers();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(delivered).toEqual(["r0"]);
    expect((await rows(database))[0]!.status).toBe("sent");

    // Stopped: a wake after a commit sends nothing.
    await queue(database, clock, 1, 1);
    dispatcher.wake();
    await yieldToOthers();
    await dispatcher.stop();
    expect(delivered).toEqual(["r0"]);

    // Started again, a wake delivers.
    dispatcher.start();
    await expect.poll(() => delivered.length).toBe(2);
    await dispatcher.stop();
  });

  it("backs off, doubling up to a ceiling, while the database fails", async () => {
    const { database, clock } = await setup(1);
    const dispatcher = new OutboxDispatcher(
      database.db,
      database.dialect,
      clock,
      secrets,
      { email: new RecordingTransport(), sms: new RecordingTransport() },
      silent,
      { pollMs: 1_000, maxBackoffMs: 5_000 },
    );
    expect(dispatcher.nextPollMs).toBe(1_000);
    const broken = await freshDatabase();
    await broken.drop();
    const failing = new OutboxDispatcher(
      broken.db,
      broken.dialect,
      clock,
      secrets,
      { email: new RecordingTransport(), sms: new RecordingTransport() },
      silent,
      { pollMs: 1_000, maxBackoffMs: 5_000 },
    );
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      await failing.drain(); // never throws: the failure is logged and counted
      waits.push(failing.nextPollMs);
    }
    expect(waits).toEqual([2_000, 4_000, 5_000, 5_000]);
    await dispatcher.drain();
    expect(dispatcher.nextPollMs).toBe(1_000);
  });
});

describe("messages carrying a one-time code", () => {
  /** Maria's recovery, and a request for a code at her backup address. */
  async function mariasRecovery() {
    const t = await testApp();
    cleanup.push(() => t.close());
    await createLockedMaria(t);
    const started = await t.server.inject({
      method: "POST",
      url: "/api/v1/recovery",
      payload: { address: "maria-rosa@hotmail.example" },
    });
    const id = started.json().recoveryId as string;
    const choose = () =>
      t.server.inject({
        method: "POST",
        url: `/api/v1/recovery/${id}/channel`,
        payload: { kind: "email", value: "maria-rosa@gmail.example" },
      });
    return { t, id, choose };
  }

  /** A code asked: its message is pending. */
  async function pendingCodeMessage() {
    const { t, id, choose } = await mariasRecovery();
    expect((await choose()).statusCode).toBe(202);
    const [row] = await t.database.db
      .selectFrom("outbox")
      .selectAll()
      .where("status", "=", "pending")
      .execute();
    return { t, id, row: row! };
  }

  it("are sent only as and where they were queued: a changed recipient or text is refused, not sent", async () => {
    const changes: Array<(row: OutboxRow) => Partial<OutboxRow>> = [
      () => ({ recipient: "attacker@evil.example" }),
      (row) => ({ body: row.body.replace("http://sesame.test/", "http://evil.example/") }),
      () => ({ subject: "Urgent: call us" }),
    ];
    for (const change of changes) {
      const { t, row } = await pendingCodeMessage();
      const changed = change(row);
      if (changed.body !== undefined) expect(changed.body).not.toBe(row.body);
      await t.database.db.updateTable("outbox").set(changed).where("id", "=", row.id).execute();
      expect(await t.messages()).toEqual([]);
      const [after] = await t.database.db.selectFrom("outbox").selectAll().where("id", "=", row.id).execute();
      expect(after).toMatchObject({ status: "failed", body: "" });
    }
  });

  it("still go out when sealed by the version before (queued before an upgrade), and the code works", async () => {
    const { t, id, row } = await pendingCodeMessage();
    const { code } = codeSecretsOf(t.app.platform.secrets, row.code_id!);
    await t.database.db
      .updateTable("outbox")
      .set({ body: t.app.platform.secrets.seal(`Votre code : ${code}`) })
      .where("id", "=", row.id)
      .execute();
    const [mail] = await t.messages();
    expect(mail!.body).toBe(`Votre code : ${code}`);
    const confirmed = await t.server.inject({
      method: "POST",
      url: `/api/v1/recovery/${id}/code`,
      payload: { code },
    });
    expect(confirmed.statusCode).toBe(200);
  });

  it("are not sent once their code was voided by a newer one, or used; they forget their body", async () => {
    const { t, choose } = await mariasRecovery();
    // Two requests before the dispatcher runs: the first code is voided by the second.
    expect((await choose()).statusCode).toBe(202);
    t.clock.advance(1_000);
    expect((await choose()).statusCode).toBe(202);
    const delivered = await t.messages();
    expect(delivered).toHaveLength(1);
    const outbox = await t.database.db.selectFrom("outbox").selectAll().orderBy("created_at").execute();
    expect(outbox.map((r) => r.status)).toEqual(["voided", "sent"]);
    expect(outbox[0]!.body).toBe("");
    expect(outbox.every((r) => r.code_id !== null)).toBe(true);
    expect(delivered[0]!.id).toBe(outbox[1]!.id);

    // A third code, used (confirmed) before its message left: not sent either.
    t.clock.advance(1_000);
    expect((await choose()).statusCode).toBe(202);
    const [pending] = await t.database.db
      .selectFrom("outbox")
      .selectAll()
      .where("status", "=", "pending")
      .execute();
    await t.database.db
      .updateTable("recovery_codes")
      .set({ used_at: t.clock.now() })
      .where("id", "=", pending!.code_id!)
      .execute();
    expect(await t.messages()).toHaveLength(1);
    const [third] = await t.database.db
      .selectFrom("outbox")
      .selectAll()
      .where("id", "=", pending!.id)
      .execute();
    expect(third).toMatchObject({ status: "voided", body: "" });
  });
});
