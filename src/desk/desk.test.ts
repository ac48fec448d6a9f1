import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deskKit, START } from "../../test/desk-kit.js";
import { auth, type TestApp, testApp } from "../../test/helpers.js";
import { totpCodeAt } from "../agents/model.js";
import { readyAgent } from "../agents/testing.js";
import type { OutboxRow } from "../messaging/outbox.js";
import { HOUR, MINUTE } from "../platform/clock.js";

// The test clock starts on Thursday 26 November 2026, 09:00 UTC (10:00 in Casablanca, Brussels and
// Amsterdam; 01:00 in Los Angeles, on Thanksgiving, a US federal holiday).
const iso = (at: number) => new Date(at).toISOString();

let t: TestApp;
let kit: ReturnType<typeof deskKit>;
const openCase = (body?: Record<string, unknown>) => kit.openCase(body);
const getCase = (ref: string, headers?: Record<string, string>) => kit.getCase(ref, headers);
const at = (instant: number) => kit.at(instant);
const agentWithToken = (input: Parameters<typeof kit.agentWithToken>[0]) => kit.agentWithToken(input);
const mailsTo = (recipient: string) => kit.mailsTo(recipient);

beforeEach(async () => {
  t = await testApp();
  kit = deskKit(t);
});
afterEach(async () => {
  await kit.close();
  await t.close();
});

describe("intake and routing", () => {
  it("routes by language and country: fr from BE to casablanca, nl to maastricht, es to dublin", async () => {
    const fr = await openCase();
    expect(fr.statusCode).toBe(201);
    expect(fr.json()).toMatchObject({ team: "casablanca", tier: 1, status: "open" });
    expect(fr.json().ref).toMatch(/^SES-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(
      (await openCase({ contactEmail: "jan@example.nl", language: "nl", country: "NL" })).json().team,
    ).toBe("maastricht");
    expect(
      (await openCase({ contactEmail: "ana@example.es", language: "es", country: "ES" })).json().team,
    ).toBe("dublin");
  });

  it("one case per problem: a second contact about the same address joins the open case", async () => {
    const first = (await openCase({ address: "maria@sesame.test" })).json();
    t.clock.advance(HOUR);
    const second = (await openCase({ contactEmail: "son@example.be", address: "maria@sesame.test" })).json();
    expect(second.ref).toBe(first.ref);
    const detail = (await getCase(first.ref)).json();
    // The customer clock keeps the first attempt.
    expect(detail.customerClockStartedAt).toBe(iso(START));
    expect(detail.timeline.filter((e: { type: string }) => e.type === "message_in")).toHaveLength(2);
  });

  it("a recovery attempt on an address with an open case goes on that case's timeline", async () => {
    const { ref } = (await openCase({ address: "maria@sesame.test" })).json();
    const start = await t.server.inject({
      method: "POST",
      url: "/api/v1/recovery",
      headers: { "content-type": "application/json" },
      payload: { address: "maria@sesame.test" },
    });
    expect(start.statusCode).toBe(201);
    const timeline = (await getCase(ref)).json().timeline;
    const attempt = timeline.find((e: { type: string }) => e.type === "recovery_attempt");
    expect(attempt).toBeDefined();
    // The recovery id is a bearer handle: the timeline keeps a keyed reference, never the id.
    expect(JSON.stringify(timeline)).not.toContain(start.json().recoveryId);
  });

  it("refuses bad input with a coded error and opens nothing", async () => {
    for (const bad of [
      { contactEmail: "not-an-address" },
      { country: "Belgium" },
      { language: "" },
      { subject: "" },
    ]) {
      const response = await openCase(bad);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe("ERR_VALIDATION");
    }
    expect(await t.database.db.selectFrom("cases").select("id").execute()).toHaveLength(0);
  });

  it("lists the teams for integrations (service token), not for strangers", async () => {
    const teams = await t.server.inject({ method: "GET", url: "/api/v1/teams", headers: auth });
    expect(teams.statusCode).toBe(200);
    expect(teams.json().teams.map((team: { id: string }) => team.id)).toEqual(
      expect.arrayContaining(["maastricht", "casablanca", "dublin", "belux", "corp"]),
    );
    expect((await t.server.inject({ method: "GET", url: "/api/v1/teams" })).statusCode).toBe(401);
  });
});

describe("deadlines and escalation (the story)", () => {
  it("a French speaker from Belgium climbs casablanca -> belux -> corp, to the minute, and is told each time", async () => {
    const { ref } = (await openCase()).json();
    let detail = (await getCase(ref)).json();
    // Casablanca: 10:00 local (UTC+1), 4 business hours -> 14:00 local = 13:00 UTC.
    expect(detail.due.firstResponse).toBe("2026-11-26T13:00:00.000Z");
    // 3 days of 12 business hours (Mon-Sat 08-20): Thu 10 h, Fri 12 h, Sat 12 h, Mon 2 h -> Mon 10:00 local.
    expect(detail.due.resolution).toBe("2026-11-30T09:00:00.000Z");

    // A minute before the deadline nothing moves.
    await at(Date.UTC(2026, 10, 26, 12, 59));
    expect((await getCase(ref)).json().tier).toBe(1);

    const afterFirst = await at(Date.UTC(2026, 10, 26, 13, 0, 1));
    detail = (await getCase(ref)).json();
    expect(detail).toMatchObject({ tier: 2, team: "belux", status: "open" });
    const types = detail.timeline.map((e: { type: string }) => e.type);
    expect(types).toContain("sla_breached");
    expect(types).toContain("escalated");
    // Belux: Thu 14:00 Brussels, 8 business hours Mon-Fri 09-17 -> Thu 3 h, Fri 5 h -> Fri 14:00 = 13:00 UTC.
    expect(detail.due.firstResponse).toBe("2026-11-27T13:00:00.000Z");
    const teamMail = afterFirst.find((m) => m.recipient === "belux@support.example");
    expect(teamMail?.subject).toContain(ref);
    // In the team's own language: belux's first is French.
    expect(teamMail?.subject).toContain("Dossier pour le niveau 2");
    const told = afterFirst.filter((m) => m.recipient === "marie@example.be" && m.subject?.includes(ref));
    expect(told.at(-1)?.body).toContain("Belgium-Luxembourg team");
    expect(told.at(-1)?.body).toContain("27 novembre");

    const afterSecond = await at(Date.UTC(2026, 10, 27, 13, 0, 1));
    detail = (await getCase(ref)).json();
    expect(detail).toMatchObject({ tier: 3, team: "corp" });
    // Corp: Friday 05:00 in Los Angeles; opens 09:00, 8 business hours -> 17:00 PST = Sat 01:00 UTC.
    expect(detail.due.firstResponse).toBe("2026-11-28T01:00:00.000Z");
    const corpMail = afterSecond.find((m) => m.recipient === "corp@support.example");
    expect(corpMail?.subject).toBe(`[${ref}] Case for tier 3`);
    expect(JSON.parse(corpMail!.headers ?? "{}").replyTo).toBe(`corp+${ref}@support.example`);

    // Past corp's deadline the case stays with corp: no tier above it.
    await at(Date.UTC(2026, 10, 28, 1, 0, 1));
    detail = (await getCase(ref)).json();
    expect(detail.tier).toBe(3);
    expect(detail.timeline.filter((e: { type: string }) => e.type === "sla_breached")).toHaveLength(3);
  });

  it("a caller known only by their number is told by SMS who holds the case and by when", async () => {
    const call = await t.server.inject({
      method: "POST",
      url: "/api/v1/calls",
      headers: { ...auth, "content-type": "application/json" },
      payload: { callerNumber: "+32470123456", language: "fr", centre: "casablanca" },
    });
    const { caseRef } = call.json();
    const delivered = await at(Date.UTC(2026, 10, 26, 13, 0, 1));
    const sms = delivered.filter((m) => m.channel === "sms" && m.recipient === "+32470123456");
    expect(sms).toHaveLength(1);
    expect(sms[0]!.body).toContain(caseRef);
    expect(sms[0]!.body).toContain("Belgium-Luxembourg team");
    expect(sms[0]!.body).toContain("vendredi 27 novembre à 14:00");
  });

  it("one jump of the manual clock over every deadline climbs each tier once, from each breach instant", async () => {
    const { ref } = (await openCase()).json();
    // Thursday 09:00 to Saturday 02:00 UTC in one move: past casablanca's (Thu 13:00), belux's
    // (Fri 13:00, counted from the first breach) and corp's (Sat 01:00) first-response deadlines.
    const moved = await t.server.inject({
      method: "POST",
      url: "/api/v1/dev/clock",
      headers: { ...auth, "content-type": "application/json" },
      payload: { advanceMs: Date.UTC(2026, 10, 28, 2) - START },
    });
    expect(moved.statusCode).toBe(200);
    const detail = (await getCase(ref)).json();
    expect(detail).toMatchObject({ tier: 3, team: "corp" });
    const escalated = detail.timeline.filter((e: { type: string }) => e.type === "escalated");
    expect(escalated.map((e: { toTeam: string }) => e.toTeam)).toEqual(["belux", "corp"]);
    const breached = detail.timeline.filter((e: { type: string }) => e.type === "sla_breached");
    expect(breached.map((e: { due: number }) => iso(e.due))).toEqual([
      "2026-11-26T13:00:00.000Z",
      "2026-11-27T13:00:00.000Z",
      "2026-11-28T01:00:00.000Z",
    ]);
  });

  it("a deadline reset by an escalation in the same batch does not pass a second time", async () => {
    const { ref } = (await openCase()).json();
    // Past casablanca's first response (Thu 13:00) and resolution (Mon 09:00) at once: the first
    // raises the case and resets its deadlines; the resolution timer of the old tier is stale.
    await t.server.inject({
      method: "POST",
      url: "/api/v1/dev/clock",
      headers: { ...auth, "content-type": "application/json" },
      payload: { advanceMs: Date.UTC(2026, 10, 30, 10) - START },
    });
    const detail = (await getCase(ref)).json();
    const passed = detail.timeline
      .filter(
        (e: { type: string; deadline: string }) =>
          e.type === "sla_breached" && e.deadline !== "customerClock",
      )
      .map((e: { deadline: string; team: string }) => `${e.team}:${e.deadline}`);
    // The customer clock (3 days, Sunday 09:00) raised it from belux to corp in the same batch; corp's
    // first response is not due yet (Monday 09:00-17:00 in Los Angeles).
    expect(passed).toEqual(["casablanca:firstResponse"]);
    const raised = detail.timeline
      .filter((e: { type: string }) => e.type === "escalated")
      .map((e: { toTeam: string; reason: string }) => `${e.toTeam}:${e.reason}`);
    expect(raised).toEqual(["belux:sla_firstResponse", "corp:customer_clock"]);
    expect(detail.due.firstResponse).toBe("2026-12-01T01:00:00.000Z");
  });

  it("a timer fires once: running the timers again moves nothing", async () => {
    const { ref } = (await openCase()).json();
    await at(Date.UTC(2026, 10, 26, 13, 0, 1));
    await t.app.platform.timers.runDue();
    await t.app.platform.timers.runDue();
    const detail = (await getCase(ref)).json();
    expect(detail.tier).toBe(2);
    expect(detail.timeline.filter((e: { type: string }) => e.type === "escalated")).toHaveLength(1);
  });

  it("an agent's public answer meets the first response; the next update is owed 8 business hours later", async () => {
    const { ref } = (await openCase()).json();
    const { headers } = await agentWithToken({ email: "youssef@desk.example", teams: ["casablanca"] });
    t.clock.advance(30 * MINUTE);
    const answer = await t.server.inject({
      method: "POST",
      url: `/api/v1/cases/${ref}/messages`,
      headers: { ...headers, "content-type": "application/json" },
      payload: { body: "Nous regardons votre boîte.", visibility: "public" },
    });
    expect(answer.statusCode).toBe(201);
    const detail = (await getCase(ref)).json();
    expect(detail.due.firstResponse).toBeUndefined();
    // 10:30 local + 8 business hours (08-20) -> 18:30 local = 17:30 UTC.
    expect(detail.due.nextUpdate).toBe(iso(t.clock.now() + 8 * HOUR));
    const mail = (await mailsTo("marie@example.be")).at(-1);
    expect(mail?.body).toContain("Nous regardons votre boîte.");
    // The first-response deadline passing no longer escalates.
    await at(Date.UTC(2026, 10, 26, 13, 0, 1));
    expect((await getCase(ref)).json().tier).toBe(1);
  });

  it("waiting on the customer pauses the tier's clocks; the customer clock still raises it after 3 days", async () => {
    const { ref } = (await openCase()).json();
    const { headers } = await agentWithToken({ email: "youssef@desk.example", teams: ["casablanca"] });
    const wait = await t.server.inject({
      method: "POST",
      url: `/api/v1/cases/${ref}/messages`,
      headers: { ...headers, "content-type": "application/json" },
      payload: { body: "Quel est votre numéro de client ?", visibility: "public", waitForCustomer: true },
    });
    expect(wait.statusCode).toBe(201);
    // Two days later the resolution deadline (Monday) has not fired: paused.
    await at(START + 2 * 24 * HOUR);
    let detail = (await getCase(ref)).json();
    expect(detail).toMatchObject({ status: "waiting", tier: 1 });
    // Three days after the first attempt the customer clock raises it a tier anyway.
    await at(START + 3 * 24 * HOUR + 1000);
    detail = (await getCase(ref)).json();
    expect(detail.tier).toBe(2);
    expect(
      detail.timeline.some(
        (e: { type: string; reason?: string }) => e.type === "escalated" && e.reason === "customer_clock",
      ),
    ).toBe(true);
  });

  it("an agent escalates by hand with a reason, and cannot go past corp", async () => {
    const { ref } = (await openCase()).json();
    const { headers } = await agentWithToken({ email: "youssef@desk.example", teams: ["casablanca"] });
    const up = (reason: string, h = headers) =>
      t.server.inject({
        method: "POST",
        url: `/api/v1/cases/${ref}/escalate`,
        headers: { ...h, "content-type": "application/json" },
        payload: { reason },
      });
    const first = await up("Needs the country team");
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ tier: 2, team: "belux" });
    // Now belux's case: casablanca's agent no longer sees it.
    expect((await up("again")).statusCode).toBe(403);
    const { headers: belux } = await agentWithToken({ email: "an@desk.example", teams: ["belux"] });
    expect((await up("to corp", belux)).json()).toEqual({ tier: 3, team: "corp" });
    const { headers: corp } = await agentWithToken({ email: "sam@desk.example", teams: ["corp"] });
    const top = await up("higher", corp);
    expect(top.statusCode).toBe(409);
    expect(top.json().error.code).toBe("ERR_CASE_AT_TOP_TIER");
    const detail = (await getCase(ref)).json();
    expect(detail.timeline.find((e: { type: string }) => e.type === "escalated").reason).toBe(
      "Needs the country team",
    );
  });
});

describe("who sees what", () => {
  it("an agent reads their own team's cases and queue only; a supervisor reads across teams", async () => {
    const { ref } = (await openCase()).json();
    const nl = (await openCase({ contactEmail: "jan@example.nl", language: "nl", country: "NL" })).json();
    const { headers: casablanca } = await agentWithToken({
      email: "youssef@desk.example",
      teams: ["casablanca"],
    });
    const { headers: maastricht } = await agentWithToken({
      email: "joost@desk.example",
      teams: ["maastricht"],
    });
    const { headers: supervisor } = await agentWithToken({
      email: "chef@desk.example",
      role: "supervisor",
      teams: ["corp"],
    });
    expect((await getCase(ref, casablanca)).statusCode).toBe(200);
    const refused = await getCase(ref, maastricht);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe("ERR_FORBIDDEN");
    expect((await getCase(nl.ref, maastricht)).statusCode).toBe(200);
    expect((await getCase(ref, supervisor)).statusCode).toBe(200);
    const queue = (h: Record<string, string>, team: string) =>
      t.server.inject({ method: "GET", url: `/api/v1/teams/${team}/queue`, headers: h });
    expect((await queue(maastricht, "casablanca")).statusCode).toBe(403);
    expect((await queue(casablanca, "casablanca")).json().cases.map((c: { ref: string }) => c.ref)).toEqual([
      ref,
    ]);
    expect((await queue(casablanca, "nowhere")).statusCode).toBe(404);
    expect((await getCase(ref, {})).statusCode).toBe(401);
    expect((await getCase("SES-ZZZZ-ZZZZ")).statusCode).toBe(404);
  });

  it("every read of a case by an agent is in the agent's audit chain", async () => {
    const { ref } = (await openCase()).json();
    const { agent, headers } = await agentWithToken({ email: "youssef@desk.example", teams: ["casablanca"] });
    await getCase(ref, headers);
    const entries = await t.database.db
      .selectFrom("audit_log")
      .select(["type"])
      .where("stream", "=", `agent:${agent.id}`)
      .execute();
    expect(entries.map((e) => e.type)).toContain("case.read");
  });

  it("orders a team's queue by the nearest deadline", async () => {
    const late = (await openCase({ contactEmail: "a@example.be" })).json();
    t.clock.advance(HOUR);
    const later = (await openCase({ contactEmail: "b@example.be" })).json();
    const { headers } = await agentWithToken({ email: "youssef@desk.example", teams: ["casablanca"] });
    // The first one answered: its next deadline moves 8 business hours on, behind the second's.
    await t.server.inject({
      method: "POST",
      url: `/api/v1/cases/${late.ref}/messages`,
      headers: { ...headers, "content-type": "application/json" },
      payload: { body: "On s'en occupe.", visibility: "public" },
    });
    const queue = await t.server.inject({ method: "GET", url: "/api/v1/teams/casablanca/queue", headers });
    expect(queue.json().cases.map((c: { ref: string }) => c.ref)).toEqual([later.ref, late.ref]);
  });

  it("fills a team's queue with the cases waiting on the customer after the open ones, up to its length", async () => {
    const refs: string[] = [];
    for (const address of ["a", "b", "c", "d", "e"]) {
      refs.push(
        (await openCase({ address: `${address}@sesame.test`, contactEmail: `${address}@example.be` })).json()
          .ref,
      );
      t.clock.advance(HOUR);
    }
    const other = (await openCase({ contactEmail: "jan@example.nl", language: "nl", country: "NL" })).json();
    const [a, b, c, d, e] = refs as [string, string, string, string, string];
    const setStatus = (status: "waiting" | "resolved", ...which: string[]) =>
      t.database.db.updateTable("cases").set({ status }).where("ref", "in", which).execute();
    await setStatus("waiting", a, d);
    await setStatus("resolved", b);
    const queue = async (length: number) =>
      (await t.app.services.desk.queue({ kind: "service" }, "casablanca", length)).rows.map((r) => r.ref);
    // Open ones by their deadline, then the waiting ones by theirs; never resolved, never another team's.
    expect(await queue(100)).toEqual([c, e, a, d]);
    expect(await queue(3)).toEqual([c, e, a]);
    expect(await queue(2)).toEqual([c, e]);
    expect(await queue(100)).not.toContain(other.ref);
  });
});

describe("calls", () => {
  it("logs a call on the caller's open case, or opens one: every call is on a case", async () => {
    const call = (payload: Record<string, unknown>, headers: Record<string, string> = auth) =>
      t.server.inject({
        method: "POST",
        url: "/api/v1/calls",
        headers: { ...headers, "content-type": "application/json" },
        payload,
      });
    const first = await call({ callerNumber: "+32470123456", language: "fr", centre: "casablanca" });
    expect(first.statusCode).toBe(201);
    const second = await call({ callerNumber: "+32 470 12 34 56", language: "fr", centre: "casablanca" });
    expect(second.json().caseRef).toBe(first.json().caseRef);
    expect(second.json().callId).not.toBe(first.json().callId);
    const detail = (await getCase(first.json().caseRef)).json();
    expect(detail).toMatchObject({ team: "casablanca", country: "BE" });
    // The agent finds it by the number typed the Belgian way.
    expect(
      (await t.app.services.desk.search({ kind: "service" }, "0470 12 34 56")).map((r) => r.ref),
    ).toEqual([first.json().caseRef]);
    expect(detail.timeline.filter((e: { type: string }) => e.type === "call")).toHaveLength(2);

    expect(
      (await call({ callerNumber: "123", language: "fr", centre: "casablanca" })).json().error.code,
    ).toBe("ERR_PHONE_INVALID");
    const unknown = await call({ callerNumber: "+32470123457", language: "fr", centre: "nowhere" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("ERR_TEAM_NOT_FOUND");
    expect(
      (await call({ callerNumber: "+32470123457", language: "fr", centre: "casablanca" }, {})).statusCode,
    ).toBe(401);
    expect(await t.database.db.selectFrom("cases").select("id").execute()).toHaveLength(1);

    // A caller who withholds their number is on a case too: a new one each call.
    const withheld = await call({ callerNumber: "anonymous", language: "nl", centre: "maastricht" });
    expect(withheld.statusCode).toBe(201);
    const again = await call({ callerNumber: "Withheld", language: "nl", centre: "maastricht" });
    expect(again.json().caseRef).not.toBe(withheld.json().caseRef);
    expect((await getCase(withheld.json().caseRef)).json()).toMatchObject({
      team: "maastricht",
      country: null,
    });
  });
});

describe("the customer's side", () => {
  const statusLink = async (recipient: string) => {
    const body = (await mailsTo(recipient)).at(-1)?.body ?? "";
    return /http:\/\/sesame\.test(\/cases\/\S+)/.exec(body)?.[1] ?? null;
  };

  it("the help centre shows the visitor's phone numbers with opening hours and the country team's address", async () => {
    const page = await t.server.inject({ url: "/?lang=fr", headers: { "accept-language": "fr-BE" } });
    expect(page.body).toContain("+212 522 000 000");
    expect(page.body).toContain("lun.-sam. 08:00-20:00");
    expect(page.body).toContain('href="mailto:belux@support.example"');
    // From France there is no country team: phones only.
    const france = await t.server.inject({ url: "/?lang=fr", headers: { "accept-language": "fr-FR" } });
    expect(france.body).toContain("+212 522 000 000");
    expect(france.body).not.toContain("belux@support.example");
    // In Dutch from the Netherlands: Maastricht.
    const dutch = await t.server.inject({ url: "/?lang=nl", headers: { "accept-language": "nl-NL" } });
    expect(dutch.body).toContain("+31 43 000 0000");
  });

  it("the status page needs the contact's token: the reference alone shows nothing", async () => {
    const { ref } = (await openCase()).json();
    const link = await statusLink("marie@example.be");
    expect(link).toMatch(new RegExp(`^/cases/${ref}\\?token=`));
    expect((await t.server.inject({ method: "GET", url: `/cases/${ref}` })).statusCode).toBe(404);
    expect(
      (await t.server.inject({ method: "GET", url: `/cases/${ref}?token=${"x".repeat(43)}` })).statusCode,
    ).toBe(404);
    const page = await t.server.inject({ method: "GET", url: link! });
    expect(page.statusCode).toBe(200);
    // The language links keep the token: the same page in Dutch.
    const dutch = /href="([^"]+lang=nl)"/.exec(page.body)![1]!.replaceAll("&amp;", "&");
    const inDutch = await t.server.inject({ method: "GET", url: dutch });
    expect(inDutch.statusCode).toBe(200);
    expect(inDutch.body).toContain("Uw bericht");
    expect(page.body).toContain("French-speaking support (Casablanca)");
    // Due by 14:00 Casablanca time, shown in the customer's country time (Brussels: 14:00 too).
    expect(page.body).toMatch(/14:00/);
  });

  it("resolution sends one survey a day later; its link works once; a reopened case voids it", async () => {
    const { ref } = (await openCase()).json();
    const { headers } = await agentWithToken({ email: "youssef@desk.example", teams: ["casablanca"] });
    const resolve = await t.server.inject({ method: "POST", url: `/api/v1/cases/${ref}/resolve`, headers });
    expect(resolve.statusCode).toBe(200);
    expect(
      (await t.server.inject({ method: "POST", url: `/api/v1/cases/${ref}/resolve`, headers })).statusCode,
    ).toBe(409);
    await at(t.clock.now() + 23 * HOUR);
    expect((await mailsTo("marie@example.be")).some((m) => m.subject?.includes("avis"))).toBe(false);
    await at(t.clock.now() + 2 * HOUR);
    const survey = (await mailsTo("marie@example.be")).filter((m) => m.body.includes("/survey?token="));
    expect(survey).toHaveLength(1);
    const url = /http:\/\/sesame\.test(\/survey\?\S+)/.exec(survey[0]!.body)![1]!;
    const form = await t.server.inject({ method: "GET", url });
    expect(form.statusCode).toBe(200);
    await at(t.clock.now() + 3 * 24 * HOUR);
    expect((await mailsTo("marie@example.be")).filter((m) => m.body.includes("/survey?token="))).toHaveLength(
      1,
    );
  });
});

describe("mail in", () => {
  const listen = () => kit.listen();
  const messageIdOf = (row: OutboxRow) => kit.messageIdOf(row);

  it("a new mail opens a case with an acknowledgement; corp's reply to the escalation mail lands on the case", async () => {
    const smtp = await listen();
    await smtp.sendMail({
      from: "marie@example.be",
      to: "casablanca@support.example",
      subject: "Boîte bloquée",
      text: "Bonjour, ma boîte est bloquée depuis deux semaines.",
    });
    const cases = await t.database.db.selectFrom("cases").selectAll().execute();
    expect(cases).toHaveLength(1);
    const ref = cases[0]!.ref;
    expect(cases[0]).toMatchObject({ team: "casablanca", tier: 1 });
    const ack = (await mailsTo("marie@example.be")).at(-1)!;
    expect(JSON.parse(ack.headers ?? "{}")).toMatchObject({
      autoSubmitted: "auto-replied",
      replyTo: `casablanca+${ref}@support.example`,
    });

    // The customer replies through the reply-to address: same case.
    await smtp.sendMail({
      from: "marie@example.be",
      to: `casablanca+${ref}@support.example`,
      subject: "Re: votre dossier",
      text: "Toujours bloquée.",
    });
    expect(await t.database.db.selectFrom("cases").select("id").execute()).toHaveLength(1);

    // Up to corp; corp answers the summary mail from its mailbox.
    await at(Date.UTC(2026, 10, 26, 13, 0, 1));
    const corpBound = await at(Date.UTC(2026, 10, 27, 13, 0, 1));
    const rows = await t.database.db
      .selectFrom("outbox")
      .selectAll()
      .where("recipient", "=", "corp@support.example")
      .execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(corpBound.some((m) => m.recipient === "corp@support.example")).toBe(true);
    await smtp.sendMail({
      from: "corp@support.example",
      to: `corp+${ref}@support.example`,
      subject: `Re: [${ref}] Case for tier 3`,
      text: "Unblocked; tell her to sign in.",
      inReplyTo: messageIdOf(rows[0]!),
    });
    const detail = (await getCase(ref)).json();
    const fromCorp = detail.timeline.filter(
      (e: { type: string; team?: string }) => e.type === "message_in" && e.team === "corp",
    );
    expect(fromCorp).toHaveLength(1);
    expect(fromCorp[0].body).toContain("Unblocked");
  });

  it("out-of-office replies and bounces open nothing and get no answer", async () => {
    const smtp = await listen();
    await smtp.sendMail({
      from: "away@example.be",
      to: "casablanca@support.example",
      subject: "Absent",
      text: "Je suis absente.",
      headers: { "Auto-Submitted": "auto-replied" },
    });
    await smtp.sendMail({
      envelope: { from: "", to: "casablanca@support.example" },
      from: "MAILER-DAEMON@example.be",
      to: "casablanca@support.example",
      subject: "Undelivered Mail Returned to Sender",
      text: "This is the mail system.",
    });
    expect(await t.database.db.selectFrom("cases").select("id").execute()).toHaveLength(0);
    expect(await mailsTo("away@example.be")).toHaveLength(0);
  });

  it("an auto-reply on a resolved case's thread lands on its timeline but never reopens it nor gets an answer", async () => {
    const { ref } = (await openCase()).json();
    const { headers } = await agentWithToken({ email: "youssef@desk.example", teams: ["casablanca"] });
    await t.server.inject({ method: "POST", url: `/api/v1/cases/${ref}/resolve`, headers });
    const ack = await t.database.db
      .selectFrom("outbox")
      .selectAll()
      .where("recipient", "=", "marie@example.be")
      .executeTakeFirstOrThrow();
    const before = (await mailsTo("marie@example.be")).length;
    const smtp = await listen();
    await smtp.sendMail({
      from: "marie@example.be",
      to: `casablanca+${ref}@support.example`,
      subject: "Réponse automatique : absente",
      text: "Je suis absente jusqu'au 3 décembre.",
      inReplyTo: messageIdOf(ack),
      headers: { "Auto-Submitted": "auto-replied" },
    });
    const detail = (await getCase(ref)).json();
    expect(detail.status).toBe("resolved");
    expect(detail.timeline.at(-1).type).toBe("auto_reply");
    expect(await mailsTo("marie@example.be")).toHaveLength(before);
    // The same mail from a person (no Auto-Submitted) reopens it.
    await smtp.sendMail({
      from: "marie@example.be",
      to: `casablanca+${ref}@support.example`,
      subject: "Re: votre dossier",
      text: "Ce n'est pas réglé.",
      inReplyTo: messageIdOf(ack),
    });
    expect((await getCase(ref)).json().status).toBe("open");
  });

  it("a reference from a stranger does not thread: it opens a new case", async () => {
    const { ref } = (await openCase()).json();
    const smtp = await listen();
    await smtp.sendMail({
      from: "mallory@example.org",
      to: `casablanca+${ref}@support.example`,
      subject: `Re: [${ref}]`,
      text: "Please send the new password here.",
    });
    const cases = await t.database.db.selectFrom("cases").select(["ref"]).execute();
    expect(cases).toHaveLength(2);
    const original = (await getCase(ref)).json();
    expect(original.timeline.some((e: { body?: string }) => e.body?.includes("new password"))).toBe(false);
  });

  it("refuses mail for addresses that are not a team's", async () => {
    const smtp = await listen();
    await expect(
      smtp.sendMail({ from: "a@example.be", to: "nobody@support.example", subject: "x", text: "y" }),
    ).rejects.toMatchObject({ responseCode: 550 });
  });
});

describe("agent console without JavaScript", () => {
  it("signs in with a password and a TOTP code, sees the queue and answers a case", async () => {
    const { ref } = (await openCase()).json();
    const agent = await readyAgent(t.app.services.agents, t.clock, {
      email: "youssef@desk.example",
      teams: ["casablanca"],
    });
    const { session } = await t.app.services.agents.signIn({
      email: agent.email,
      password: agent.password,
      code: totpCodeAt(agent.secret, t.clock.now()),
    });
    const cookie = `sesame_agent=${session}`;
    const queue = await t.server.inject({
      method: "GET",
      url: "/agent/teams/casablanca",
      headers: { cookie },
    });
    expect(queue.statusCode).toBe(200);
    expect(queue.body).toContain(ref);
    const page = await t.server.inject({ method: "GET", url: `/agent/cases/${ref}`, headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Ma boîte est bloquée");
    expect((await t.server.inject({ method: "GET", url: `/agent/cases/${ref}` })).statusCode).toBe(303);
  });
});
