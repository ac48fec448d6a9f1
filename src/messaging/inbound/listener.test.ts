import { readFileSync } from "node:fs";
import { connect } from "node:net";
import nodemailer from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { Secrets } from "../../platform/secrets.js";
import type { InboundMail } from "./classify.js";
import { type InboundListener, InboundRejectedError, startInboundListener } from "./listener.js";
import { signedMessageId } from "./message-ids.js";

const secrets = new Secrets("listener-test-secret-0123456789abcdefgh");
const dsn = readFileSync(new URL("./fixtures/dsn-permanent.eml", import.meta.url));
const TEAM = /^support(\+[^@]+)?@sesame\.test$/;

const logged: string[] = [];
const log = {
  info: () => {},
  warn: (_: object, message: string) => logged.push(message),
  error: (_: object, message: string) => logged.push(message),
};

let listener: InboundListener | null = null;
afterEach(async () => {
  await listener?.close();
  listener = null;
  logged.length = 0;
});

/** A listener on a free port that keeps what it was handed; `fail` makes onMail throw. */
async function start(options: { maxBytes?: number; onMail?: (mail: InboundMail) => Promise<void> } = {}) {
  const received: InboundMail[] = [];
  listener = await startInboundListener({
    host: "127.0.0.1",
    port: 0,
    maxBytes: options.maxBytes ?? 64 * 1024,
    acceptsRecipient: (address) => TEAM.test(address),
    onMail:
      options.onMail ??
      (async (mail) => {
        received.push(mail);
      }),
    log,
    secrets,
  });
  const client = nodemailer.createTransport({
    host: "127.0.0.1",
    port: listener.port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5_000,
    socketTimeout: 5_000,
  });
  return { received, client };
}

/** The SMTP reply code of a refused send. */
const refusal = async (sending: Promise<unknown>): Promise<number | undefined> => {
  try {
    await sending;
  } catch (error) {
    return (error as { responseCode?: number }).responseCode;
  }
  throw new Error("the listener accepted what it should have refused");
};

/**
 * A bare SMTP conversation: each command is sent after the previous reply, and the replies (first
 * line's code and text) are returned. No SIZE declared, no pipelining: the server must judge the
 * DATA itself.
 */
async function converse(port: number, commands: string[]): Promise<string[]> {
  const socket = connect(port, "127.0.0.1");
  const replies: string[] = [];
  let buffer = "";
  socket.on("data", (chunk) => {
    buffer += chunk.toString();
    // A reply is complete at a line "NNN text" (continuation lines are "NNN-text").
    for (let match = /^(\d{3}) .*\r\n/m.exec(buffer); match; match = /^(\d{3}) .*\r\n/m.exec(buffer)) {
      replies.push(match[0].trim());
      buffer = buffer.slice(match.index + match[0].length);
    }
  });
  await expect.poll(() => replies.length).toBe(1); // the greeting
  for (const [index, command] of commands.entries()) {
    socket.write(`${command}\r\n`);
    await expect.poll(() => replies.length).toBe(index + 2);
  }
  socket.destroy();
  return replies.slice(1);
}

const human = {
  from: "Maria Rosa <maria@example.org>",
  to: "support@sesame.test",
  subject: "I cannot sign in",
  text: "My account is locked.",
};

describe("inbound SMTP listener", () => {
  it("takes in a person's mail, answering 250 once onMail resolved", async () => {
    const { received, client } = await start();
    const info = await client.sendMail({ ...human, messageId: "<first@example.org>" });
    expect(info.response).toMatch(/^250/);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      messageId: "<first@example.org>",
      from: "maria@example.org",
      fromName: "Maria Rosa",
      envelopeFrom: "maria@example.org",
      recipients: ["support@sesame.test"],
      subject: "I cannot sign in",
      kind: "human",
    });
    expect(received[0]!.text.trim()).toBe("My account is locked.");
  });

  it.each<Record<string, string>>([
    { "Auto-Submitted": "auto-replied" },
    { "X-Autoreply": "yes" },
    { "X-Autorespond": "Out of office" },
    { Precedence: "bulk" },
    { Precedence: "junk" },
    { Precedence: "list" },
    { "List-Id": "<news.example.org>" },
    { "List-Unsubscribe": "<mailto:leave@example.org>" },
  ])("hands over an out-of-office or list mail (%o) as an auto-reply", async (headers) => {
    const { received, client } = await start();
    await client.sendMail({ ...human, subject: "Out of office", headers });
    expect(received.map((m) => m.kind)).toEqual(["auto_reply"]);
  });

  it("hands over a real delivery status report, sent from the null sender, as a permanent bounce", async () => {
    const { received, client } = await start();
    await client.sendMail({ envelope: { from: "", to: ["support@sesame.test"] }, raw: dsn });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      kind: "bounce",
      envelopeFrom: "",
      bounce: { recipients: ["gone@example.org"], permanent: true },
    });
  });

  it("refuses a recipient that is not a team address with 550, and takes nothing", async () => {
    const { received, client } = await start();
    expect(await refusal(client.sendMail({ ...human, to: "someone@elsewhere.example" }))).toBe(550);
    expect(received).toEqual([]);
  });

  it("refuses an oversized mail with 552", async () => {
    const { received, client } = await start({ maxBytes: 4_096 });
    expect(await refusal(client.sendMail({ ...human, text: "x".repeat(20_000) }))).toBe(552);
    expect(received).toEqual([]);
    // The connection-level SIZE check and the stream check agree: a mail under the limit still goes.
    await client.sendMail(human);
    expect(received).toHaveLength(1);
  });

  it("refuses with 552 a mail whose client declared no size, judging the data itself", async () => {
    const { received } = await start({ maxBytes: 4_096 });
    const body = `From: maria@example.org\r\nSubject: big\r\n\r\n${"y".repeat(76)}\r\n`.repeat(100);
    const replies = await converse(listener!.port, [
      "EHLO client.example",
      "MAIL FROM:<maria@example.org>",
      "RCPT TO:<support@sesame.test>",
      "DATA",
      `${body}.`,
      "QUIT",
    ]);
    expect(replies.map((r) => r.slice(0, 3))).toEqual(["250", "250", "250", "354", "552", "221"]);
    expect(received).toEqual([]);
  });

  it("offers neither AUTH nor STARTTLS, and refuses STARTTLS", async () => {
    await start();
    const socket = connect(listener!.port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    await expect.poll(() => text).toMatch(/^220 /);
    socket.write("EHLO client.example\r\n");
    await expect.poll(() => text).toMatch(/\r\n250 [^\r]*\r\n$/);
    expect(text).not.toMatch(/AUTH|STARTTLS/);
    socket.write("STARTTLS\r\n");
    await expect.poll(() => text).toMatch(/\r\n5\d\d [^\r]*\r\n$/);
    socket.destroy();
  });

  it("answers 451 (try again later) when the mail cannot be stored, and logs it", async () => {
    const { client } = await start({
      onMail: async () => {
        throw new Error("database down");
      },
    });
    expect(await refusal(client.sendMail(human))).toBe(451);
    expect(logged).toContain("inbound mail could not be stored; asked the sender to retry");
  });

  it("answers a permanent refusal from onMail with its code", async () => {
    const { client } = await start({
      onMail: async () => {
        throw new InboundRejectedError("5.7.1 Not accepted", 554);
      },
    });
    expect(await refusal(client.sendMail(human))).toBe(554);
  });

  it("refuses malformed mail (no From) with 550 and a clear text, and takes nothing", async () => {
    const { received, client } = await start();
    let message = "";
    const code = await refusal(
      client
        .sendMail({
          envelope: { from: "maria@example.org", to: ["support@sesame.test"] },
          raw: "Subject: no sender\r\n\r\nbody\r\n",
        })
        .catch((error: Error) => {
          message = error.message;
          throw error;
        }),
    );
    expect(code).toBe(550);
    expect(message).toMatch(/no valid From/);
    expect(received).toEqual([]);
  });

  it("extracts the plus-address and subject references", async () => {
    const { received, client } = await start();
    await client.sendMail({
      ...human,
      to: "support+SES-ABCD-2345@sesame.test",
      subject: "Re: [SES-7K2M-9QXD] help",
    });
    expect(received[0]).toMatchObject({
      recipients: ["support+ses-abcd-2345@sesame.test"],
      plusRef: "SES-ABCD-2345",
      subjectRef: "SES-7K2M-9QXD",
    });
  });

  it("recognises a reply to a Message-ID Sesame signed, and ignores a forged one", async () => {
    const { received, client } = await start();
    const signed = signedMessageId(secrets, "SES-ABCD-2345", "sesame.test");
    await client.sendMail({ ...human, inReplyTo: signed, references: [signed] });
    const forged = signed.replace(/\.[A-Za-z0-9_-]{22}@/, `.${"B".repeat(22)}@`);
    await client.sendMail({ ...human, inReplyTo: forged, references: [forged] });
    expect(received.map((m) => m.signedRef)).toEqual(["SES-ABCD-2345", undefined]);
  });
});
