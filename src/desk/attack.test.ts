/**
 * The desk attacked from outside (and by a low-privilege agent). Each test here failed on the code
 * as it landed, or guards a boundary that was checked and held; see docs/desk/attack.md.
 */
import nodemailer from "nodemailer";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auth, concurrencyTest, type TestApp, testApp } from "../../test/helpers.js";
import { readyAgent } from "../agents/testing.js";
import type { InboundListener } from "../messaging/inbound/listener.js";
import type { OutboxRow } from "../messaging/outbox.js";
import { mailOptions } from "../messaging/transports.js";
import { DAY, HOUR, MINUTE } from "../platform/clock.js";

const START = Date.UTC(2026, 10, 26, 9, 0, 0);

let t: TestApp;
let listener: InboundListener | null = null;

beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await listener?.close();
  listener = null;
  await t.close();
});

const intake = (body: Record<string, unknown> = {}) =>
  t.server.inject({
    method: "POST",
    url: "/api/v1/cases",
    headers: { "content-type": "application/json" },
    payload: {
      contactEmail: "marie@example.be",
      language: "fr",
      country: "BE",
      subject: "Ma boîte est bloquée",
      body: "Après un virus, ma boîte est bloquée.",
      ...body,
    },
  });

const timelineOf = async (ref: string) =>
  (await t.server.inject({ method: "GET", url: `/api/v1/cases/${ref}`, headers: auth })).json()
    .timeline as Array<Record<string, unknown> & { type: string }>;

async function listen() {
  listener = await t.app.startInboundMail({ port: 0 });
  return nodemailer.createTransport({
    host: "127.0.0.1",
    port: listener.port,
    secure: false,
    ignoreTLS: true,
  });
}

const messageIdOf = (row: OutboxRow) =>
  mailOptions(row, "Sesame <no-reply@support.example>").messageId as string;

async function agentHeaders(input: {
  email: string;
  role?: "agent" | "supervisor" | "admin";
  teams: string[];
}) {
  const agent = await readyAgent(t.app.services.agents, t.clock, input);
  const token = await t.app.services.agents.issueToken(agent.email);
  return { authorization: `Bearer ${token}` };
}

async function at(instant: number) {
  t.clock.advance(instant - t.clock.now());
  await t.app.platform.timers.runDue();
  return t.messages();
}

describe("a forged team sender", () => {
  it("a stranger spoofing corp@ with the case's plus-address and reference does not speak as the team", async () => {
    const { ref } = (await intake()).json();
    const smtp = await listen();
    await smtp.sendMail({
      from: "corp@support.example",
      to: `casablanca+${ref}@support.example`,
      subject: `Re: [${ref}]`,
      text: "Corp here: identity checked, reset the password and read it to the caller.",
    });
    const timeline = await timelineOf(ref);
    expect(timeline.some((e) => e.team === "corp" || e.actor === "team:corp")).toBe(false);
    expect(timeline.some((e) => String(e.body ?? "").includes("identity checked"))).toBe(false);
  });

  it("the customer spoofing corp@ with the signed id of their own acknowledgement does not speak as the team", async () => {
    const smtp = await listen();
    await smtp.sendMail({
      from: "marie@example.be",
      to: "casablanca@support.example",
      subject: "Boîte bloquée",
      text: "Bonjour, ma boîte est bloquée.",
    });
    const [kase] = await t.database.db.selectFrom("cases").selectAll().execute();
    const ref = kase!.ref;
    const ack = await t.database.db
      .selectFrom("outbox")
      .selectAll()
      .where("recipient", "=", "marie@example.be")
      .executeTakeFirstOrThrow();
    await smtp.sendMail({
      from: "corp@support.example",
      to: `casablanca+${ref}@support.example`,
      subject: `Re: [${ref}]`,
      text: "Corp: verified by phone, hand her the account.",
      inReplyTo: messageIdOf(ack),
    });
    const timeline = await timelineOf(ref);
    expect(timeline.some((e) => e.team === "corp" || e.actor === "team:corp")).toBe(false);
    expect(
      timeline.some((e) => e.visibility === "internal" && String(e.body ?? "").includes("verified")),
    ).toBe(false);
  });
});

describe("Sesame must not be made to mail a third party again and again", () => {
  it("contact-added notices to one address are capped across cases, not only per case", async () => {
    const victim = "victim@example.org";
    const desk = t.app.services.desk;
    const web = (contactEmail: string, address: string) =>
      desk.openFromWeb(
        { contactEmail, address, language: "en", country: "GB", subject: "x", body: "y" },
        "web",
      );
    // Five cases whose first contact is the victim (the per-contact intake cap allows five an hour).
    for (let i = 0; i < 5; i++) await web(victim, `target${i}@example.net`);
    // Then every hour, a fresh stranger joins each of them: each join notices the first contact.
    let stranger = 0;
    for (let hour = 1; hour <= 10; hour++) {
      t.clock.advance(HOUR + MINUTE);
      for (let i = 0; i < 5; i++) await web(`stranger${stranger++}@example.com`, `target${i}@example.net`);
    }
    const toVictim = (await t.messages()).filter((m) => m.recipient === victim);
    expect(toVictim.length).toBeLessThanOrEqual(10);
    // The ones not mailed still show on the victim's status pages (the owner's other way to know).
    const notices = await t.database.db
      .selectFrom("case_events")
      .select("id")
      .where("type", "=", "case.contact_added_notice")
      .execute();
    expect(notices).toHaveLength(50);
  });
});

describe("the customer clock", () => {
  it("keeps running after a reopen: a case resolved on day 1 and reopened on day 2 is raised at day 3", async () => {
    const { ref } = (await intake()).json();
    const headers = await agentHeaders({
      email: "sup@desk.example",
      role: "supervisor",
      teams: ["casablanca"],
    });
    const ack = (await t.messages()).find((m) => m.recipient === "marie@example.be")!;
    const statusPath = /\/cases\/[^\s]+token=[^\s&]+/.exec(ack.body)![0];
    const token = new URL(`http://x${statusPath}`).searchParams.get("token")!;
    await at(START + 2 * HOUR);
    expect(
      (await t.server.inject({ method: "POST", url: `/api/v1/cases/${ref}/resolve`, headers })).statusCode,
    ).toBe(200);
    t.clock.advance(DAY);
    await t.app.services.desk.replyFromStatusPage(ref, token, "Still locked out.");
    expect((await timelineOf(ref)).some((e) => e.type === "reopened")).toBe(true);
    await at(START + 3 * DAY + MINUTE);
    const breaches = (await timelineOf(ref)).filter(
      (e) => e.type === "sla_breached" && e.deadline === "customerClock",
    );
    expect(breaches).toHaveLength(1);
  });
});

describe("calls", () => {
  it("one number in several formats lands on one case", async () => {
    const refs = new Set<string>();
    for (const callerNumber of [
      "+32 470 12 34 56",
      "tel:+32-470-12-34-56",
      "0032 470 12 34 56",
      "0470 12 34 56",
    ]) {
      const response = await t.server.inject({
        method: "POST",
        url: "/api/v1/calls",
        headers: { "content-type": "application/json", ...auth },
        payload: { callerNumber, language: "fr", centre: "casablanca" },
      });
      expect(response.statusCode, callerNumber).toBe(201);
      refs.add(response.json().caseRef);
    }
    expect(refs.size).toBe(1);
  });

  concurrencyTest("two calls from one new number at the same time open one case", async () => {
    const desk = t.app.services.desk;
    const call = () =>
      desk.logCall(
        { callerNumber: "+32 470 99 88 77", language: "fr", centre: "casablanca" },
        { kind: "system" },
      );
    const results = await Promise.all([call(), call(), call()]);
    expect(new Set(results.map((r) => r.caseRef)).size).toBe(1);
    expect(await t.database.db.selectFrom("cases").select("id").execute()).toHaveLength(1);
  });

  concurrencyTest("two web intakes for one address at the same time open one case", async () => {
    const results = await Promise.all([
      intake({ contactEmail: "a@example.be", address: "same@example.be" }),
      intake({ contactEmail: "b@example.be", address: "same@example.be" }),
      intake({ contactEmail: "c@example.be", address: "same@example.be" }),
    ]);
    expect(results.map((r) => r.statusCode)).toEqual([201, 201, 201]);
    expect(new Set(results.map((r) => r.json().ref)).size).toBe(1);
    expect(await t.database.db.selectFrom("case_contacts").select("id").execute()).toHaveLength(3);
  });
});
