import { readFileSync } from "node:fs";
import { simpleParser } from "mailparser";
import { afterEach, describe, expect, it } from "vitest";
import { concurrencyTest, freshDatabase, type TestApp, testApp } from "../../test/helpers.js";
import { classifyMail, type InboundMail } from "./inbound/classify.js";
import { type InboundListener, startInboundListener } from "./inbound/listener.js";
import { refFromSignedId } from "./inbound/message-ids.js";
import { applyBounce } from "./inbound/service.js";
import {
  caseOfInbound,
  linkInbound,
  purgeInboundMessages,
  recordInbound,
  unsuppressAddress,
} from "./inbound/store.js";
import {
  enqueueMessage,
  isSuppressed,
  type OutgoingMessage,
  plusAddress,
  suppressAddress,
} from "./outbox.js";
import { mailOptions, smtpTransport } from "./transports.js";

const FROM = "Sesame <no-reply@sesame.test>";
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function app(): Promise<TestApp> {
  const t = await testApp();
  cleanup.push(() => t.close());
  return t;
}

/** Queues one message in its own transaction and returns its outbox row. */
async function queue(t: TestApp, message: OutgoingMessage) {
  const id = await t.database.db
    .transaction()
    .execute((tx) => enqueueMessage(tx, t.clock.now(), t.app.platform.secrets, message));
  return t.database.db.selectFrom("outbox").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

const email = (recipient: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  channel: "email",
  recipient,
  subject: "About your case",
  body: "Hello",
  ...extra,
});

describe("outgoing mail headers", () => {
  it("mark every mail auto-generated, with the row's own stable Message-ID", async () => {
    const t = await app();
    const row = await queue(t, email("maria@example.org"));
    const options = mailOptions(row, FROM);
    expect(options.messageId).toBe(`<${row.id}@sesame.test>`);
    expect(options.headers["Auto-Submitted"]).toBe("auto-generated");
    expect(options).not.toHaveProperty("inReplyTo");
    expect(mailOptions(row, FROM).messageId).toBe(options.messageId);
  });

  it("sign the Message-ID of a mail about a case, and carry the threading headers and reply-to", async () => {
    const t = await app();
    const row = await queue(
      t,
      email("maria@example.org", {
        caseRef: "SES-ABCD-2345",
        headers: {
          inReplyTo: "<m1@example.org>",
          references: ["<m0@example.org>", "<m1@example.org>"],
          replyTo: plusAddress("support@sesame.test", "SES-ABCD-2345"),
          autoSubmitted: "auto-replied",
        },
      }),
    );
    const options = mailOptions(row, FROM);
    expect(refFromSignedId(t.app.platform.secrets, options.messageId)).toBe("SES-ABCD-2345");
    expect(options.messageId).toContain(row.id.replaceAll("-", ""));
    expect(mailOptions(row, FROM).messageId).toBe(options.messageId);
    expect(options).toMatchObject({
      inReplyTo: "<m1@example.org>",
      references: ["<m0@example.org>", "<m1@example.org>"],
      replyTo: "support+SES-ABCD-2345@sesame.test",
      headers: { "Auto-Submitted": "auto-replied", "X-Sesame-Message": row.id },
    });
  });

  it("keep a Message-ID given verbatim", async () => {
    const t = await app();
    const row = await queue(
      t,
      email("maria@example.org", { caseRef: "SES-ABCD-2345", headers: { messageId: "<given@x>" } }),
    );
    expect(mailOptions(row, FROM).messageId).toBe("<given@x>");
  });

  it("go out over SMTP: Sesame's own mail, sent to its own listener, is never taken for a person's", async () => {
    const t = await app();
    const received: InboundMail[] = [];
    const listener: InboundListener = await startInboundListener({
      host: "127.0.0.1",
      port: 0,
      maxBytes: 1024 * 1024,
      acceptsRecipient: () => true,
      onMail: async (mail) => {
        received.push(mail);
      },
      log: { info() {}, warn() {}, error() {} },
      secrets: t.app.platform.secrets,
    });
    cleanup.push(() => listener.close());
    const row = await queue(
      t,
      email("support@sesame.test", { caseRef: "SES-7K2M-9QXD", headers: { inReplyTo: "<m1@example.org>" } }),
    );
    const transport = smtpTransport(`smtp://127.0.0.1:${listener.port}`, FROM);
    await transport.send({ ...row, body: "Your case is open." });
    await transport.send({ ...row, body: "Your case is open." }); // a re-send after a crash
    expect(received.map((m) => m.kind)).toEqual(["auto_reply", "auto_reply"]);
    expect(received[0]!.inReplyTo).toBe("<m1@example.org>");
    expect(received[0]!.signedRef).toBeUndefined();
    expect(refFromSignedId(t.app.platform.secrets, received[0]!.messageId)).toBe("SES-7K2M-9QXD");
    expect(received[1]!.messageId).toBe(received[0]!.messageId);
  });
});

describe("suppressed addresses", () => {
  it("get no mail: the message is voided with reason 'suppressed', has no body and is never sent", async () => {
    const t = await app();
    await suppressAddress(t.database.db, "Gone@Example.org", "bounce 5.1.1", t.clock.now());
    expect(await isSuppressed(t.database.db, "gone@example.org")).toBe(true);
    const row = await queue(t, email("GONE@example.org"));
    expect(row).toMatchObject({ status: "voided", last_error: "suppressed", body: "" });
    // Other addresses, and text messages, still go.
    await queue(t, email("maria@example.org"));
    await queue(t, { channel: "sms", recipient: "gone@example.org", body: "x" });
    const delivered = await t.messages();
    expect(delivered.map((m) => m.recipient).sort()).toEqual(["gone@example.org", "maria@example.org"]);
    expect(delivered.find((m) => m.recipient === "gone@example.org")!.channel).toBe("sms");
    // Until an operator lifts it.
    expect(await unsuppressAddress(t.database.db, "gone@EXAMPLE.org")).toBe(true);
    expect((await queue(t, email("gone@example.org"))).status).toBe("pending");
  });
});

describe("inbound dedupe", () => {
  it("takes a Message-ID once; a retried delivery is seen; old ones are purged", async () => {
    const t = await app();
    const db = t.database.db;
    expect(await recordInbound(db, "<m1@example.org>", 1_000)).toBe(true);
    expect(await recordInbound(db, "<m1@example.org>", 2_000)).toBe(false);
    expect(await recordInbound(db, "<m2@example.org>", 5_000)).toBe(true);
    await linkInbound(db, "<m1@example.org>", "case-1");
    expect(await caseOfInbound(db, "<m1@example.org>")).toBe("case-1");
    expect(await caseOfInbound(db, "<m2@example.org>")).toBeNull();
    expect(await purgeInboundMessages(db, 5_000)).toBe(1);
    expect(await recordInbound(db, "<m1@example.org>", 6_000)).toBe(true);
    expect(await recordInbound(db, "<m2@example.org>", 6_000)).toBe(false);
  });
});

concurrencyTest("a mail delivered to two nodes at once is taken in by one of them", async () => {
  const database = await freshDatabase();
  const second = database.openAnother();
  cleanup.push(async () => {
    await second.close();
    await database.drop();
  });
  let release: () => void = () => {};
  const hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  // The first node's transaction stays open after its insert: the second must wait for its outcome.
  let inserted = false;
  const first = database.db.transaction().execute(async (tx) => {
    const taken = await recordInbound(tx, "<twice@example.org>", 1_000);
    inserted = true;
    await hold;
    return taken;
  });
  await expect.poll(() => inserted).toBe(true);
  const other = second.db.transaction().execute((tx) => recordInbound(tx, "<twice@example.org>", 1_000));
  release();
  expect([await first, await other]).toEqual([true, false]);
});

describe("bounces", () => {
  const dsn = readFileSync(new URL("./inbound/fixtures/dsn-permanent.eml", import.meta.url), "utf8");

  /** The fixture report, about the outbox row `outboxId` and the failed `address`. */
  const bounceOf = async (t: TestApp, outboxId: string, address: string, status = "5.1.1") =>
    classifyMail(
      await simpleParser(
        dsn
          .replaceAll("0b6f7c2e-1111-4222-8333-944445555666", outboxId)
          .replaceAll(/gone@example\.org/gi, address)
          .replace("Status: 5.1.1", `Status: ${status}`),
      ),
      { mailFrom: "", rcptTo: ["no-reply@sesame.test"], rawSha256: "0".repeat(64) },
      t.app.platform.secrets,
    );

  const apply = (t: TestApp, mail: InboundMail) =>
    t.database.db.transaction().execute((tx) => applyBounce(t.app.platform, tx, mail));

  it("a permanent bounce of a mail Sesame sent stops mail to that address, audited", async () => {
    const t = await app();
    const sent = await queue(t, email("gone@example.org"));
    expect(await apply(t, await bounceOf(t, sent.id, "gone@example.org"))).toEqual(["gone@example.org"]);
    expect(await isSuppressed(t.database.db, "gone@example.org")).toBe(true);
    const audit = await t.database.db
      .selectFrom("audit_log")
      .selectAll()
      .where("type", "=", "mail_suppressed")
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).not.toContain("gone@example.org");
    expect((await queue(t, email("gone@example.org"))).status).toBe("voided");
  });

  it("a transient failure, or a report about a mail Sesame never sent to that address, changes nothing", async () => {
    const t = await app();
    const sent = await queue(t, email("gone@example.org"));
    const other = await queue(t, email("maria@example.org"));
    expect(await apply(t, await bounceOf(t, sent.id, "gone@example.org", "4.2.2"))).toEqual([]);
    // A forged report naming a real row, but someone else's address: that address is not silenced.
    expect(await apply(t, await bounceOf(t, other.id, "gone@example.org"))).toEqual([]);
    expect(
      await apply(t, await bounceOf(t, "0b6f7c2e-9999-4222-8333-944445555666", "gone@example.org")),
    ).toEqual([]);
    expect(await isSuppressed(t.database.db, "gone@example.org")).toBe(false);
    expect(await isSuppressed(t.database.db, "maria@example.org")).toBe(false);
  });
});
