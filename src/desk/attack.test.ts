import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deskKit, START } from "../../test/desk-kit.js";
import { auth, concurrencyTest, createAccount, type TestApp, testApp } from "../../test/helpers.js";
import { AGENT_SESSION_COOKIE } from "../agents/guard.js";
import { agentSession, readyAgent } from "../agents/testing.js";
import type { OutboxRow } from "../messaging/outbox.js";
import { mailOptions } from "../messaging/transports.js";
import { DAY, HOUR, MINUTE } from "../platform/clock.js";

let t: TestApp;
let kit: ReturnType<typeof deskKit>;

beforeEach(async () => {
  t = await testApp();
  kit = deskKit(t);
});
afterEach(async () => {
  await kit.close();
  await t.close();
});

const intake = (body?: Record<string, unknown>) => kit.openCase(body);
const timelineOf = async (ref: string) =>
  (await kit.getCase(ref)).json().timeline as Array<Record<string, unknown> & { type: string }>;
const listen = () => kit.listen();
const messageIdOf = (row: OutboxRow) => kit.messageIdOf(row);
const agentHeaders = async (input: Parameters<typeof kit.agentWithToken>[0]) =>
  (await kit.agentWithToken(input)).headers;
const at = (instant: number) => kit.at(instant);

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

describe("escalation mail to a stranger's address", () => {
  it("cases naming one address as contact do not turn their escalations into a stream of mail to it", async () => {
    const victim = "victim@example.org";
    const desk = t.app.services.desk;
    // Ten hours of intakes naming the victim (the per-contact cap allows five an hour): 50 cases.
    for (let hour = 0; hour < 10; hour++) {
      for (let i = 0; i < 5; i++)
        await desk.openFromWeb(
          {
            contactEmail: victim,
            address: `t${hour}-${i}@example.net`,
            language: "fr",
            country: "BE",
            subject: "x",
            body: "y",
          },
          "web",
        );
      t.clock.advance(HOUR + MINUTE);
    }
    for (let day = 1; day <= 4; day++) await at(START + day * DAY);
    const escalated = (await t.messages()).filter(
      (m) => m.recipient === victim && /nouvelle équipe/.test(m.subject ?? ""),
    );
    // Five a day at most over the four days (it was 100).
    expect(escalated.length).toBeLessThanOrEqual(4 * 5);
    // What was not mailed is still on each case's status page for that contact.
    const onPages = await t.database.db
      .selectFrom("case_events")
      .select("id")
      .where("type", "=", "message_out")
      .where("detail", "like", "%desk.mail.escalated%")
      .execute();
    expect(onPages.length).toBeGreaterThan(50);
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

/** A signed-in agent's browser: session cookie plus the CSRF cookie and token of a page shown. */
async function consoleOf(input: { email: string; role?: "agent" | "supervisor" | "admin"; teams: string[] }) {
  const { agents } = t.app.services;
  const agent = await readyAgent(agents, t.clock, input);
  const session = await agentSession(agents, t.clock, agent);
  const form = await t.server.inject({ url: "/agent/signin" });
  const csrfCookie = String(form.headers["set-cookie"]).split(";")[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const cookie = `${AGENT_SESSION_COOKIE}=${session}; ${csrfCookie}`;
  return {
    get: (url: string) => t.server.inject({ url, headers: { cookie } }),
    post: (url: string, fields: Record<string, string>, token: string | null = csrf) =>
      t.server.inject({
        method: "POST",
        url,
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ ...(token === null ? {} : { _csrf: token }), ...fields }).toString(),
      }),
  };
}

describe("boundaries that held", () => {
  it("an agent of another team can neither read nor act on a case, through any route, and search hides it", async () => {
    const { ref } = (await intake({ contactEmail: "ana@example.es", language: "es", country: "ES" })).json();
    const before = (await timelineOf(ref)).length;
    const headers = await agentHeaders({ email: "youssef@desk.example", teams: ["casablanca"] });
    const json = { ...headers, "content-type": "application/json" };
    for (const [method, url, payload] of [
      ["GET", `/api/v1/cases/${ref}`, undefined],
      ["GET", "/api/v1/teams/dublin/queue", undefined],
      ["POST", `/api/v1/cases/${ref}/messages`, { body: "hi", visibility: "public" }],
      ["POST", `/api/v1/cases/${ref}/messages`, { body: "hi", visibility: "internal" }],
      ["POST", `/api/v1/cases/${ref}/escalate`, { reason: "x" }],
      ["POST", `/api/v1/cases/${ref}/resolve`, undefined],
    ] as const) {
      const response = await t.server.inject({
        method,
        url,
        headers: payload ? json : headers,
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
    }
    const browser = await consoleOf({ email: "karim@desk.example", teams: ["casablanca"] });
    expect((await browser.get(`/agent/cases/${ref}`)).statusCode).toBe(403);
    expect((await browser.get("/agent/teams/dublin")).statusCode).toBe(403);
    for (const action of ["reply", "note", "call", "escalate", "reassign", "resolve"])
      expect(
        (await browser.post(`/agent/cases/${ref}/${action}`, { body: "x", reason: "x", team: "casablanca" }))
          .statusCode,
        action,
      ).toBe(403);
    for (const q of [ref, "ana@example.es"]) {
      const page = await browser.get(`/agent/search?q=${encodeURIComponent(q)}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain(`/agent/cases/${ref}`);
    }
    expect(await timelineOf(ref)).toHaveLength(before);
    expect(await t.messages()).not.toContainEqual(
      expect.objectContaining({ recipient: "dublin@support.example" }),
    );
  });

  it("an agent cannot reassign, even on their own team's case; console posts need the CSRF token", async () => {
    const { ref } = (await intake()).json();
    const browser = await consoleOf({ email: "youssef@desk.example", teams: ["casablanca"] });
    expect(
      (await browser.post(`/agent/cases/${ref}/reassign`, { team: "corp", reason: "skip the queue" }))
        .statusCode,
    ).toBe(403);
    expect((await browser.post(`/agent/cases/${ref}/resolve`, {}, null)).statusCode).toBe(403);
    expect((await browser.post(`/agent/cases/${ref}/resolve`, {}, "forged")).statusCode).toBe(403);
    const [row] = await t.database.db.selectFrom("cases").selectAll().execute();
    expect(row).toMatchObject({ team: "casablanca", status: "open" });
  });

  it("every agent read and act is audited", async () => {
    const { ref } = (await intake()).json();
    const browser = await consoleOf({ email: "youssef@desk.example", teams: ["casablanca"] });
    await browser.get("/agent/teams/casablanca");
    await browser.get(`/agent/search?q=${ref}`);
    await browser.get(`/agent/cases/${ref}`);
    await browser.post(`/agent/cases/${ref}/note`, { body: "checked id" });
    await browser.post(`/agent/cases/${ref}/call`, { body: "called back" });
    await browser.post(`/agent/cases/${ref}/reply`, { body: "hello" });
    await browser.post(`/agent/cases/${ref}/resolve`, {});
    const types = (
      await t.database.db
        .selectFrom("audit_log")
        .select(["type", "actor"])
        .where("actor", "like", "agent:%")
        .execute()
    ).map((e) => e.type);
    for (const type of [
      "queue.read",
      "case.search",
      "case.read",
      "case.note",
      "case.call_logged",
      "case.reply",
      "case.resolved",
    ])
      expect(types, type).toContain(type);
  });

  it("a customer's markup is text in the console, on the status page and in our mail", async () => {
    const evil = `<img src=x onerror=alert(1)><script>alert(2)</script>`;
    const { ref } = (await intake({ subject: evil, body: evil })).json();
    const ack = (await t.messages()).find((m) => m.recipient === "marie@example.be")!;
    expect(ack.subject).not.toContain("<");
    expect(ack.body).not.toContain("<script>");
    const statusPath = /\/cases\/[^\s]+token=[^\s&]+/.exec(ack.body)![0];
    const token = new URL(`http://x${statusPath}`).searchParams.get("token")!;
    await t.app.services.desk.replyFromStatusPage(ref, token, evil);
    const status = await t.server.inject({ url: statusPath });
    expect(status.statusCode).toBe(200);
    expect(status.body).not.toContain("<script>alert");
    expect(status.body).toContain("&lt;script>alert(2)");
    const browser = await consoleOf({ email: "youssef@desk.example", teams: ["casablanca"] });
    const page = await browser.get(`/agent/cases/${ref}`);
    expect(page.body).not.toContain("<script>alert");
    expect(page.body).not.toContain("<img src=x");
    const search = await browser.get(`/agent/search?q=${encodeURIComponent(evil)}`);
    expect(search.body).not.toContain("<script>alert");
  });

  it("a status page or its reply with another case's reference and a valid token shows and records nothing", async () => {
    const mine = (
      await intake({ contactEmail: "mallory@example.org", address: "mallory@example.org" })
    ).json();
    const theirs = (await intake()).json();
    const ack = (await t.messages()).find((m) => m.recipient === "mallory@example.org")!;
    const token = new URL(`http://x${/\/cases\/[^\s]+token=[^\s&]+/.exec(ack.body)![0]}`).searchParams.get(
      "token",
    )!;
    expect((await t.server.inject({ url: `/cases/${theirs.ref}?token=${token}` })).statusCode).toBe(404);
    await expect(t.app.services.desk.replyFromStatusPage(theirs.ref, token, "hijack")).rejects.toMatchObject({
      code: "ERR_NOT_FOUND",
    });
    expect((await timelineOf(theirs.ref)).some((e) => e.body === "hijack")).toBe(false);
    expect(mine.ref).not.toBe(theirs.ref);
  });

  it("our own mail coming back, another Sesame's acknowledgement and a list post open nothing and get no answer", async () => {
    const smtp = await listen();
    const { ref } = (await intake()).json();
    const ownAck = await t.database.db
      .selectFrom("outbox")
      .selectAll()
      .where("recipient", "=", "marie@example.be")
      .executeTakeFirstOrThrow();
    // Our acknowledgement, delivered back to us (a contact that forwards everything to the team).
    await smtp.sendMail({
      ...mailOptions(ownAck, "Sesame <no-reply@support.example>"),
      envelope: { from: "no-reply@support.example", to: "casablanca@support.example" },
    });
    await smtp.sendMail({
      from: "help@other-sesame.example",
      to: "casablanca@support.example",
      subject: "Your support case SES-ABCD-EFGH",
      text: "We received your message.",
      headers: { "Auto-Submitted": "auto-replied" },
    });
    await smtp.sendMail({
      from: "someone@lists.example",
      to: "casablanca@support.example",
      subject: "[list] hello",
      text: "A list post.",
      headers: { "List-Id": "<list.lists.example>", Precedence: "list" },
    });
    expect(await t.database.db.selectFrom("cases").select("id").execute()).toHaveLength(1);
    const sent = (await t.messages()).map((m) => m.recipient);
    expect(sent.filter((r) => r !== "marie@example.be")).toEqual([]);
    expect((await timelineOf(ref)).filter((e) => e.type === "message_in")).toHaveLength(1);
  });
});

describe("telling accounts apart through POST /api/v1/cases", () => {
  it("a case about an address with an account and one without do the same work and answer alike", async () => {
    await createAccount(t, { address: "known@sesame.test", locale: "fr", country: "BE" });
    const work = async (address: string, contactEmail: string) => {
      const audits = async () => (await t.database.db.selectFrom("audit_log").select("seq").execute()).length;
      const before = await audits();
      const response = await intake({ address, contactEmail });
      return {
        status: response.statusCode,
        keys: Object.keys(response.json()).sort(),
        team: response.json().team,
        headers: Object.keys(response.headers).sort(),
        audits: (await audits()) - before,
      };
    };
    const known = await work("known@sesame.test", "a@example.be");
    const unknown = await work("unknown@sesame.test", "b@example.be");
    expect(unknown).toEqual(known);
  });
});

describe("console answers tell the truth", () => {
  it("an agent who escalates their case out of their team is not told 'forbidden' for a change that was made", async () => {
    const { ref } = (await intake()).json();
    const browser = await consoleOf({ email: "youssef@desk.example", teams: ["casablanca"] });
    const response = await browser.post(`/agent/cases/${ref}/escalate`, { reason: "needs the country team" });
    const [row] = await t.database.db.selectFrom("cases").selectAll().execute();
    expect(row).toMatchObject({ team: "belux", tier: 2 });
    // Done, said so, with the way back to the queue: never a 403 page for a change that was made.
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("The case was escalated.");
    expect(response.body).toContain('href="/agent"');
  });
});

describe("a stranger joining a case", () => {
  it("the agent sees that the public reply goes to the contact who wrote last, and who wrote each message", async () => {
    const { ref } = (await intake({ address: "maria@sesame.test" })).json();
    t.clock.advance(HOUR);
    await intake({
      address: "maria@sesame.test",
      contactEmail: "mallory@evil.example",
      body: "It's me, new address.",
    });
    const browser = await consoleOf({ email: "youssef@desk.example", teams: ["casablanca"] });
    const page = (await browser.get(`/agent/cases/${ref}?lang=en`)).body;
    const replyTo = /<p id="reply-to"[^>]*>([^<]*)<\/p>/.exec(page)?.[1] ?? "";
    expect(replyTo).toContain("mallory@evil.example");
    expect(page).toMatch(/from mallory@evil\.example/);
    expect(page).toMatch(/from marie@example\.be/);
  });
});

describe("search", () => {
  it("an agent finds their team's case even when many other teams' cases match first", async () => {
    const own = (await intake({ contactEmail: "busy@example.be", address: "own@example.be" })).json();
    for (let i = 0; i < 50; i++) {
      t.clock.advance(i % 4 === 3 ? HOUR : MINUTE);
      await intake({
        contactEmail: "busy@example.be",
        address: `other${i}@example.es`,
        language: "es",
        country: "ES",
      });
    }
    const browser = await consoleOf({ email: "youssef@desk.example", teams: ["casablanca"] });
    expect(await t.database.db.selectFrom("cases").select("id").execute()).toHaveLength(51);
    const page = await browser.get("/agent/search?q=busy%40example.be");
    expect(page.body).toContain(`/agent/cases/${own.ref}`);
  });
});

describe("timers against a case that changed meanwhile", () => {
  it("a case resolved before its deadlines neither escalates nor mails anyone when they pass", async () => {
    const { ref } = (await intake()).json();
    const headers = await agentHeaders({
      email: "sup@desk.example",
      role: "supervisor",
      teams: ["casablanca"],
    });
    const before = (await t.messages()).length;
    expect(
      (await t.server.inject({ method: "POST", url: `/api/v1/cases/${ref}/resolve`, headers })).statusCode,
    ).toBe(200);
    const sent = (await at(START + 8 * DAY)).slice(before);
    const timeline = await timelineOf(ref);
    expect(timeline.filter((e) => ["escalated", "sla_breached", "sla_warning"].includes(e.type))).toEqual([]);
    // Only the survey went out, once.
    expect(
      sent.filter((m) => m.recipient === "marie@example.be").map((m) => m.body.includes("/survey?token=")),
    ).toEqual([true]);
    expect(sent.some((m) => m.recipient.endsWith("@support.example"))).toBe(false);
  });
});

describe("odd input", () => {
  it("a huge body, an unknown team or an unknown case is refused with a coded error and changes nothing", async () => {
    const huge = await intake({ body: "x".repeat(20_001) });
    expect(huge.statusCode).toBe(400);
    expect(huge.json().error.code).toBe("ERR_VALIDATION");
    expect(await t.database.db.selectFrom("cases").select("id").execute()).toHaveLength(0);
    const { ref } = (await intake()).json();
    const headers = await agentHeaders({
      email: "sup@desk.example",
      role: "supervisor",
      teams: ["casablanca"],
    });
    const queue = await t.server.inject({ url: "/api/v1/teams/atlantis/queue", headers });
    expect(queue.statusCode).toBe(404);
    expect(queue.json().error.code).toBe("ERR_TEAM_NOT_FOUND");
    const browser = await consoleOf({
      email: "boss@desk.example",
      role: "supervisor",
      teams: ["casablanca"],
    });
    const reassign = await browser.post(`/agent/cases/${ref}/reassign`, { team: "atlantis", reason: "x" });
    expect(reassign.statusCode).toBe(404);
    const missing = await t.server.inject({ url: "/api/v1/cases/SES-ZZZZ-ZZZZ", headers });
    expect(missing.statusCode).toBe(404);
    const [row] = await t.database.db.selectFrom("cases").selectAll().execute();
    expect(row).toMatchObject({ team: "casablanca", tier: 1 });
  });
});
