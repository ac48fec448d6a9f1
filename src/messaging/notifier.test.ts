import { afterEach, describe, expect, it } from "vitest";
import { freshDatabase } from "../../test/helpers.js";
import { ManualClock } from "../platform/clock.js";
import { Secrets } from "../platform/secrets.js";
import { type Notice, notify } from "./notifier.js";
import { type OutboxRow, openBody } from "./outbox.js";

const secrets = new Secrets("notifier-test-secret-0123456789abcdef");
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** Notifies each notice on a fresh database and returns the outbox rows, bodies opened. */
async function notified(...notices: Notice[]) {
  const database = await freshDatabase();
  cleanup.push(() => database.drop());
  const clock = new ManualClock(1_000_000);
  await database.db.transaction().execute(async (tx) => {
    for (const notice of notices) await notify(tx, { clock, secrets }, notice);
  });
  const rows = (await database.db.selectFrom("outbox").selectAll().execute()) as OutboxRow[];
  return rows.map((row) => ({
    channel: row.channel,
    recipient: row.recipient,
    subject: row.subject,
    body: row.body === "" ? "" : openBody(secrets, row),
    status: row.status,
    codeId: row.code_id,
    createdAt: Number(row.created_at),
  }));
}

const notice = { subject: "Your code", body: "Mail: 123456 and a link", sms: "SMS: 123456" };

describe("notify", () => {
  it("mails an email address, with the subject and the mail's body", async () => {
    expect(
      await notified({ ...notice, to: { kind: "email", value: "ana@example.org" }, codeId: "c1" }),
    ).toEqual([
      {
        channel: "email",
        recipient: "ana@example.org",
        subject: "Your code",
        body: "Mail: 123456 and a link",
        status: "pending",
        codeId: "c1",
        createdAt: 1_000_000,
      },
    ]);
  });

  it("texts a phone number, with the SMS's own text and no subject", async () => {
    expect(await notified({ ...notice, to: { kind: "phone", value: "+32470000000" }, codeId: "c2" })).toEqual(
      [
        {
          channel: "sms",
          recipient: "+32470000000",
          subject: null,
          body: "SMS: 123456",
          status: "pending",
          codeId: "c2",
          createdAt: 1_000_000,
        },
      ],
    );
  });

  it("texts the mail's body when no SMS text is given", async () => {
    const [row] = await notified({
      to: { kind: "phone", value: "+32470000000" },
      subject: "S",
      body: "Hello",
    });
    expect(row).toMatchObject({ channel: "sms", body: "Hello", codeId: null });
  });

  it("writes a decoy as a row that is never sent, naming nobody and holding nothing", async () => {
    const rows = await notified(
      { ...notice, to: { kind: "email", value: "ana@example.org" }, codeId: "c3", decoy: true },
      { ...notice, to: { kind: "phone", value: "+32470000000" }, decoy: true },
    );
    expect(
      rows.map(({ channel, recipient, subject, body, status, codeId }) => ({
        channel,
        recipient,
        subject,
        body,
        status,
        codeId,
      })),
    ).toEqual([
      { channel: "email", recipient: "", subject: null, body: "", status: "voided", codeId: null },
      { channel: "sms", recipient: "", subject: null, body: "", status: "voided", codeId: null },
    ]);
  });
});
