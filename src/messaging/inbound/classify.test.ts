import { readFileSync } from "node:fs";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { Secrets } from "../../platform/secrets.js";
import {
  classifyMail,
  type Envelope,
  MAX_TEXT,
  MalformedMailError,
  mayAutoAnswer,
  parseDeliveryStatus,
} from "./classify.js";
import { signedMessageId } from "./message-ids.js";

const secrets = new Secrets("classify-test-secret-0123456789abcdefgh");
const dsnFixture = readFileSync(new URL("./fixtures/dsn-permanent.eml", import.meta.url));

const envelope = (overrides: Partial<Envelope> = {}): Envelope => ({
  mailFrom: "maria@example.org",
  rcptTo: ["Support@Sesame.Test"],
  rawSha256: "f".repeat(64),
  ...overrides,
});

const mail = (headers: string, body = "Hello, I cannot sign in.") =>
  `From: Maria Rosa <Maria@Example.org>\r\nTo: support@sesame.test\r\nSubject: Locked out\r\nMessage-ID: <m1@example.org>\r\n${headers}${headers ? "\r\n" : ""}\r\n${body}\r\n`;

const classify = async (raw: string | Buffer, env: Partial<Envelope> = {}) =>
  classifyMail(await simpleParser(raw), envelope(env), secrets);

describe("classifyMail", () => {
  it("reads a person's mail: lower-cased addresses, name, subject, text, threading ids", async () => {
    const result = await classify(mail("In-Reply-To: <a@x>\r\nReferences: <r1@x>\r\n <a@x>"));
    expect(result).toMatchObject({
      messageId: "<m1@example.org>",
      from: "maria@example.org",
      fromName: "Maria Rosa",
      envelopeFrom: "maria@example.org",
      recipients: ["support@sesame.test"],
      subject: "Locked out",
      inReplyTo: "<a@x>",
      references: ["<r1@x>", "<a@x>"],
      kind: "human",
    });
    expect(result.text.trim()).toBe("Hello, I cannot sign in.");
    expect(result.bounce).toBeUndefined();
    expect(mayAutoAnswer(result)).toBe(true);
  });

  it("turns HTML-only mail into text, without scripts", async () => {
    const result = await classify(
      mail("Content-Type: text/html; charset=utf-8", "<p>Bonjour <b>Sesame</b></p><script>alert(1)</script>"),
    );
    expect(result.text).toContain("Bonjour Sesame");
    expect(result.text).not.toContain("alert");
    expect(result.text).not.toContain("<");
  });

  it("keeps the text bounded", async () => {
    const result = await classify(mail("", "x".repeat(MAX_TEXT * 2)));
    expect(result.text.length).toBe(MAX_TEXT);
  });

  it.each([
    ["Auto-Submitted: auto-replied"],
    ["Auto-Submitted: auto-generated"],
    ["Auto-Submitted: Auto-Notified; owner-email=x@y"],
    ["X-Autoreply: yes"],
    ["X-Autorespond: Out of office"],
    ["Precedence: bulk"],
    ["Precedence: Junk"],
    ["Precedence: list"],
    ["List-Id: Announcements <announce.example.org>"],
    ["List-Unsubscribe: <mailto:leave@example.org>"],
  ])("takes %s as an automatic reply, never to be answered", async (header) => {
    const result = await classify(mail(header));
    expect(result.kind).toBe("auto_reply");
    expect(mayAutoAnswer(result)).toBe(false);
  });

  it.each([["Auto-Submitted: no"], ["Precedence: first-class"], ["X-Mailer: Thunderbird"]])(
    "takes %s as a person's mail",
    async (header) => {
      expect((await classify(mail(header))).kind).toBe("human");
    },
  );

  it("takes a read receipt (a report that is not a delivery status) as automatic", async () => {
    const raw = mail(
      'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary="b"',
      "--b\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--b--",
    );
    expect((await classify(raw)).kind).toBe("auto_reply");
  });

  it("takes mail from the null sender as a bounce, or as an auto-reply when it says so", async () => {
    const bounce = await classify(mail(""), { mailFrom: "" });
    expect(bounce.kind).toBe("bounce");
    expect(bounce.bounce).toEqual({ recipients: [], permanent: false, failures: [] });
    expect(mayAutoAnswer(bounce)).toBe(false);
    expect(await classify(mail("Return-Path: <>"))).toMatchObject({ kind: "bounce" });
    expect((await classify(mail("Auto-Submitted: auto-replied"), { mailFrom: "" })).kind).toBe("auto_reply");
  });

  it("reads a delivery status report: failed recipients, permanence, the mail that bounced", async () => {
    const result = await classify(dsnFixture, { mailFrom: "" });
    expect(result.kind).toBe("bounce");
    expect(result.bounce).toEqual({
      recipients: ["gone@example.org"],
      permanent: true,
      failures: [{ address: "gone@example.org", status: "5.1.1", permanent: true }],
      originalMessageId: "<0b6f7c2e-1111-4222-8333-944445555666@sesame.test>",
      outboxId: "0b6f7c2e-1111-4222-8333-944445555666",
    });
    // A report is a bounce whatever the envelope says.
    expect((await classify(dsnFixture, { mailFrom: "mailer-daemon@mx.example" })).kind).toBe("bounce");
  });

  it("tells transient from permanent failures and ignores delays and successes", () => {
    const report = [
      "Reporting-MTA: dns; mx.example",
      "",
      "Final-Recipient: rfc822; full@example.org",
      "Action: failed",
      "Status: 4.2.2",
      "",
      "Final-Recipient: rfc822;<Late@Example.org>",
      "Action: delayed",
      "Status: 4.4.1",
      "",
      "Final-Recipient: rfc822; ok@example.org",
      "Action: delivered",
      "Status: 2.0.0",
      "",
      "Original-Recipient: rfc822; gone@example.org",
      "Action: failed",
      "Status: 5.1.1 (user unknown)",
    ].join("\r\n");
    expect(parseDeliveryStatus(report)).toEqual([
      { address: "full@example.org", status: "4.2.2", permanent: false },
      { address: "gone@example.org", status: "5.1.1", permanent: true },
    ]);
  });

  it("finds the case reference in a plus-address and in the subject", async () => {
    const plus = await classify(mail(""), { rcptTo: ["support+ses-abcd-2345@sesame.test"] });
    expect(plus.plusRef).toBe("SES-ABCD-2345");
    const subject = await classify(mail("").replace("Locked out", "Re: [SES-7K2M-9QXD] Locked out"));
    expect(subject.subjectRef).toBe("SES-7K2M-9QXD");
    const bare = await classify(mail("").replace("Locked out", "About SES-7K2M-9QXD please"));
    expect(bare.subjectRef).toBe("SES-7K2M-9QXD");
    // Letters outside the alphabet (O, I, L, U, 0, 1) are no reference.
    const wrong = await classify(mail("").replace("Locked out", "SES-OOOO-1111 and XSES-ABCD-2345"), {
      rcptTo: ["support+SES-ABCD-1234@sesame.test"],
    });
    expect(wrong.subjectRef).toBeUndefined();
    expect(wrong.plusRef).toBeUndefined();
  });

  it("recognises a signed Message-ID in In-Reply-To or References, and ignores a forged one", async () => {
    const signed = signedMessageId(secrets, "SES-ABCD-2345", "sesame.test");
    expect((await classify(mail(`In-Reply-To: ${signed}`))).signedRef).toBe("SES-ABCD-2345");
    expect((await classify(mail(`References: <x@y> ${signed} <z@w>`))).signedRef).toBe("SES-ABCD-2345");
    const forged = signedMessageId(
      new Secrets("not-the-key-of-this-installation-000"),
      "SES-ABCD-2345",
      "sesame.test",
    );
    expect((await classify(mail(`In-Reply-To: ${forged}`))).signedRef).toBeUndefined();
  });

  it("refuses mail without a usable From", async () => {
    await expect(classify("Subject: hi\r\n\r\nno sender\r\n")).rejects.toBeInstanceOf(MalformedMailError);
    await expect(classify("From: nobody\r\n\r\nx\r\n")).rejects.toBeInstanceOf(MalformedMailError);
    await expect(classify("complete garbage")).rejects.toThrow(/From/);
  });

  it("gives mail without a Message-ID a stable one from its content", async () => {
    const raw = mail("").replace("Message-ID: <m1@example.org>\r\n", "");
    const first = await classify(raw, { rawSha256: "a".repeat(64) });
    expect(first.messageId).toBe(`<${"a".repeat(64)}@no-message-id.sesame>`);
    const long = await classify(mail("").replace("<m1@example.org>", `<${"x".repeat(400)}@example.org>`));
    expect(long.messageId).toMatch(/^<[0-9a-f]{64}@no-message-id\.sesame>$/);
  });

  it("never answers a mail system or a list owner", async () => {
    const daemon = await classify(mail("").replace("Maria@Example.org", "MAILER-DAEMON@example.org"));
    expect(daemon.kind).toBe("human");
    expect(mayAutoAnswer(daemon)).toBe(false);
    expect(mayAutoAnswer(await classify(mail(""), { mailFrom: "owner-list@example.org" }))).toBe(false);
  });
});
