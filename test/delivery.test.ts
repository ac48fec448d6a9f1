import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fr } from "../src/platform/locales/fr.js";
import { auth, maria, NEW_PASSWORD, STRONG_PASSWORD, type TestApp, testApp } from "./helpers.js";

/**
 * Real delivery: the app's own SMTP and SMS-gateway transports talk to a real SMTP server and a
 * real HTTP receiver on loopback. Nothing in the messaging path is replaced.
 */

const PRIMARY = maria.address;
const BACKUP = "maria-rosa@gmail.example";
const PHONE = "+32470123456";

interface ReceivedMail {
  envelopeTo: string[];
  from: string;
  subject: string;
  text: string;
  messageId: string | undefined;
  /** The RFC 5322 Message-ID, stable per outbox message. */
  rfcMessageId: string | undefined;
}
interface ReceivedSms {
  to: string;
  body: string;
  idempotencyKey: string | undefined;
}

let smtp: SMTPServer;
let gateway: Server;
let mails: ReceivedMail[];
let texts: ReceivedSms[];
let gatewayHits: number;
/** How many upcoming SMS requests the gateway answers with a 500. */
let gatewayFailures: number;

let t: TestApp;
let app: TestApp["app"];
let clock: TestApp["clock"];
let database: TestApp["database"];

beforeEach(async () => {
  mails = [];
  texts = [];
  gatewayHits = 0;
  gatewayFailures = 0;

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      // Recorded before the 250 reply, so a finished drain() means the mail is here.
      simpleParser(stream)
        .then((parsed) => {
          mails.push({
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            from: parsed.from?.text ?? "",
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            messageId: parsed.headers.get("x-sesame-message") as string | undefined,
            rfcMessageId: parsed.messageId,
          });
          callback();
        })
        .catch(callback);
    },
  });
  smtp.listen(0, "127.0.0.1");
  await once(smtp.server, "listening");

  gateway = createServer((request, response) => {
    let raw = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => {
      raw += chunk;
    });
    request.on("end", () => {
      gatewayHits++;
      if (gatewayFailures > 0) {
        gatewayFailures--;
        response.writeHead(500).end("gateway down");
        return;
      }
      texts.push({ ...JSON.parse(raw), idempotencyKey: request.headers["idempotency-key"] } as ReceivedSms);
      response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  gateway.listen(0, "127.0.0.1");
  await once(gateway, "listening");

  // The app's own transports, pointed at the two receivers above.
  t = await testApp(
    {
      SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      SMS_GATEWAY_URL: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/sms`,
      MAIL_FROM: "Sesame <help@sesame.test>",
    },
    { transports: "configured" },
  );
  ({ app, clock, database } = t);

  const created = await inject("POST", "/api/v1/accounts", { password: STRONG_PASSWORD, ...maria }, auth);
  expect(created.statusCode).toBe(201);
  const locked = await inject("POST", `/api/v1/accounts/${PRIMARY}/lock`, { reason: "compromise" }, auth);
  expect(locked.statusCode).toBe(200);
});

afterEach(async () => {
  await t?.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  gateway.closeAllConnections();
  await new Promise<void>((resolve) => gateway.close(() => resolve()));
});

function inject(method: "GET" | "POST", url: string, payload?: object, headers: Record<string, string> = {}) {
  return app.server.inject({ method, url, headers, ...(payload ? { payload } : {}) });
}

async function startRecovery(): Promise<string> {
  const response = await inject("POST", "/api/v1/recovery", { address: PRIMARY });
  expect(response.statusCode).toBe(201);
  return response.json().recoveryId as string;
}

const outbox = () => database.db.selectFrom("outbox").selectAll().orderBy("created_at").execute();
const sixDigits = (text: string) => /\b(\d{6})\b/.exec(text)?.[1];

describe("real delivery over SMTP and the SMS gateway", () => {
  it("mails and texts the codes, then tells the primary address, the backup mail and the phone", async () => {
    const id = await startRecovery();

    // Email channel: a real mail reaches the backup box, with the code and the confirmation link.
    const byMail = await inject("POST", `/api/v1/recovery/${id}/channel`, { kind: "email", value: BACKUP });
    expect(byMail.statusCode).toBe(202);
    await app.dispatcher.drain();
    expect(mails).toHaveLength(1);
    const codeMail = mails[0]!;
    expect(codeMail.envelopeTo).toEqual([BACKUP]);
    expect(codeMail.from).toBe('"Sesame" <help@sesame.test>');
    expect(codeMail.subject).toBe(fr["mail.code.subject"]);
    const mailedCode = sixDigits(codeMail.text);
    expect(mailedCode).toMatch(/^\d{6}$/);
    expect(codeMail.text).toMatch(/http:\/\/sesame\.test\/recover\/link\?token=[\w-]{43}&lang=fr/);
    // The mail carries the outbox id, so a delivery can be traced back to its row.
    const [mailRow] = await outbox();
    expect(codeMail.messageId).toBe(mailRow!.id);
    // A stable Message-ID from the outbox id: a re-send after a crash is recognisably the same mail.
    expect(codeMail.rfcMessageId).toBe(`<${mailRow!.id}@sesame.test>`);

    // A minute later Maria asks for an SMS instead, typing the number as a person would: the gateway
    // gets it in E.164 with a code. (The clock moves because the store picks "the latest code" by
    // created_at; two codes in the same millisecond tie, see the report on src/recovery/store.ts.)
    clock.advance(60_000);
    const byPhone = await inject("POST", `/api/v1/recovery/${id}/channel`, {
      kind: "phone",
      value: "+32 470 12 34 56",
    });
    expect(byPhone.statusCode).toBe(202);
    await app.dispatcher.drain();
    expect(texts).toHaveLength(1);
    expect(texts[0]!.to).toBe(PHONE);
    // The gateway can deduplicate a re-send: the outbox id is the Idempotency-Key.
    const smsRow = (await outbox()).find((r) => r.channel === "sms");
    expect(texts[0]!.idempotencyKey).toBe(smsRow!.id);
    const textedCode = sixDigits(texts[0]!.body);
    expect(textedCode).toMatch(/^\d{6}$/);
    expect(texts[0]!.body).toBe(fr["sms.code.body"].replace("{code}", textedCode!));

    const confirmed = await inject("POST", `/api/v1/recovery/${id}/code`, { code: textedCode });
    expect(confirmed.statusCode).toBe(200);
    const { passwordToken } = confirmed.json();
    const reset = await inject("POST", `/api/v1/recovery/${id}/password`, {
      password: NEW_PASSWORD,
      passwordToken,
    });
    expect(reset.statusCode).toBe(200);
    await app.dispatcher.drain();

    // Everyone who could be the real owner hears of it: primary and backup by mail, phone by SMS.
    const notices = mails.slice(1);
    expect(notices.map((m) => m.envelopeTo[0]).sort()).toEqual([BACKUP, PRIMARY].sort());
    for (const notice of notices) {
      expect(notice.subject).toBe(fr["mail.recovered.subject"]);
      expect(notice.text).toContain(PRIMARY);
    }
    expect(texts).toHaveLength(2);
    expect(texts[1]!.to).toBe(PHONE);
    expect(texts[1]!.body).toContain("récupération de compte");

    // The primary box may be in an attacker's hands: it never received a code, and the unverified
    // alternate received nothing at all.
    const toPrimary = mails.filter((m) => m.envelopeTo.includes(PRIMARY));
    expect(toPrimary).toHaveLength(1);
    expect(sixDigits(toPrimary[0]!.text)).toBeUndefined();
    expect(mails.some((m) => m.envelopeTo.includes("old-address@yahoo.example"))).toBe(false);

    // Every queued message went out exactly once.
    const rows = await outbox();
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => [r.status, Number(r.attempts)])).toEqual(Array(5).fill(["sent", 1]));
    expect(mails).toHaveLength(3);
    expect(gatewayHits).toBe(2);

    expect((await inject("GET", `/api/v1/accounts/${PRIMARY}`, undefined, auth)).json().status).toBe(
      "active",
    );
  });

  it("keeps an SMS the gateway refused, and delivers it on the retry 30 seconds later", async () => {
    gatewayFailures = 1;
    const id = await startRecovery();
    const chosen = await inject("POST", `/api/v1/recovery/${id}/channel`, { kind: "phone", value: PHONE });
    expect(chosen.statusCode).toBe(202);
    const acknowledgedAt = clock.now();

    await app.dispatcher.drain();
    expect(gatewayHits).toBe(1);
    expect(texts).toEqual([]);
    const [failed] = await outbox();
    expect(failed).toMatchObject({ status: "pending", recipient: PHONE, sent_at: null });
    expect(Number(failed!.attempts)).toBe(1);
    expect(failed!.last_error).toContain("500");
    expect(Number(failed!.next_attempt_at)).toBe(acknowledgedAt + 30_000);

    // Not due yet: draining again does not hammer the gateway.
    clock.advance(29_000);
    await app.dispatcher.drain();
    expect(gatewayHits).toBe(1);

    clock.advance(1_001);
    await app.dispatcher.drain();
    expect(gatewayHits).toBe(2);
    expect(texts).toHaveLength(1);
    expect(texts[0]!.to).toBe(PHONE);
    const [sent] = await outbox();
    expect(sent).toMatchObject({ id: failed!.id, status: "sent" });
    expect(Number(sent!.attempts)).toBe(2);
    expect(Number(sent!.sent_at)).toBe(clock.now());

    // The late code is the one the recovery expects: nothing acknowledged was lost.
    const code = sixDigits(texts[0]!.body);
    const confirmed = await inject("POST", `/api/v1/recovery/${id}/code`, { code });
    expect(confirmed.statusCode).toBe(200);

    // And it is delivered once: later drains send nothing more.
    clock.advance(10 * 60_000);
    await app.dispatcher.drain();
    expect(gatewayHits).toBe(2);
  });
});
