import { afterEach, describe, expect, it } from "vitest";
import { formClient, type TestApp, testApp } from "../../test/helpers.js";
import { verifyAuditChain } from "../platform/audit.js";
import { DAY, HOUR, MINUTE } from "../platform/clock.js";
import { AppError } from "../platform/errors.js";
import { en } from "../platform/locales/en.js";
import { fr } from "../platform/locales/fr.js";
import { AGENT_SESSION_COOKIE } from "./guard.js";
import { TOTP_PERIOD_MS, totpCodeAt } from "./model.js";
import { agentStream } from "./service.js";
import { AGENT_PASSWORD, agentSession, type ReadyAgent, readyAgent, TEST_TEAMS } from "./testing.js";

let t: TestApp;
afterEach(() => t?.close());

const setupTokenOf = (url: string) => new URL(url).searchParams.get("token")!;
const failedCode = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return null;
};

async function start(env: Record<string, string> = {}) {
  t = await testApp(env);
  return t.app.services.agents;
}

const signInWith = (
  agent: ReadyAgent,
  changes: Partial<{ email: string; password: string; code: string; ip: string }> = {},
) =>
  t.app.services.agents.signIn({
    email: agent.email,
    password: agent.password,
    code: totpCodeAt(agent.secret, t.clock.now()),
    ...changes,
  });

const meWith = (token: string) =>
  t.server.inject({ url: "/api/v1/agent/me", headers: { authorization: `Bearer ${token}` } });

describe("the setup link", () => {
  it("sets a password, shows the TOTP key and URI, takes a first code, and then works no more", async () => {
    const agents = await start();
    const { setupUrl } = await agents.addAgent(
      { email: "Lea@Desk.Example", name: "Léa", role: "agent", teams: ["casablanca"] },
      TEST_TEAMS,
    );
    expect(setupUrl).toMatch(/^http:\/\/sesame\.test\/agent\/setup\?token=[\w-]{43}$/);
    const path = setupUrl.replace("http://sesame.test", "");
    const browser = formClient(t);

    const form = await browser.get(`${path}&lang=en`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain("lea@desk.example");
    // Opening the link changes nothing (a mail scanner may open it).
    const before = await t.database.db.selectFrom("agents").selectAll().executeTakeFirstOrThrow();
    expect(before.password_hash).toBeNull();

    const token = setupTokenOf(setupUrl);
    const weak = await browser.post("/agent/setup", {
      token,
      password: "lea12345",
      confirmation: "lea12345",
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain(en["error.ERR_PASSWORD_WEAK"].replace("{hint}", "").trim());

    const keyPage = await browser.post("/agent/setup", {
      token,
      password: AGENT_PASSWORD,
      confirmation: AGENT_PASSWORD,
    });
    expect(keyPage.statusCode).toBe(200);
    const secret = /otpauth:\/\/totp\/[^"]*secret=([A-Z2-7]+)/.exec(keyPage.body)?.[1];
    expect(secret).toBeDefined();
    expect(keyPage.body).toContain(secret!.match(/.{1,4}/g)!.join(" "));
    const row = await t.database.db.selectFrom("agents").selectAll().executeTakeFirstOrThrow();
    // Sealed at rest, never the key itself.
    expect(row.totp_secret).not.toContain(secret!);
    expect(t.app.platform.secrets.unseal(row.totp_secret!)).toBe(secret);

    // Not ready before the first code: the password alone signs nobody in.
    expect(
      await failedCode(
        agents.signIn({
          email: "lea@desk.example",
          password: AGENT_PASSWORD,
          code: totpCodeAt(secret!, t.clock.now()),
        }),
      ),
    ).toBe("ERR_AGENT_SIGNIN_FAILED");

    const wrong = await browser.post("/agent/setup/confirm", {
      token,
      code: "000000" === totpCodeAt(secret!, t.clock.now()) ? "111111" : "000000",
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain(en["error.ERR_AGENT_CODE_INVALID"]);
    expect(wrong.body).toContain(secret!.match(/.{1,4}/g)!.join(" "));

    t.clock.advance(TOTP_PERIOD_MS);
    const done = await browser.post("/agent/setup/confirm", {
      token,
      code: totpCodeAt(secret!, t.clock.now()),
    });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain(en["agent.setup.done.title"]);

    // Once used, the link is gone: GET and both POSTs.
    expect((await browser.get(path)).statusCode).toBe(410);
    expect(
      (await browser.post("/agent/setup", { token, password: AGENT_PASSWORD, confirmation: AGENT_PASSWORD }))
        .statusCode,
    ).toBe(410);
    expect((await browser.post("/agent/setup/confirm", { token, code: "123456" })).statusCode).toBe(410);

    t.clock.advance(TOTP_PERIOD_MS);
    const { viewer } = await agents.signIn({
      email: "lea@desk.example",
      password: AGENT_PASSWORD,
      code: totpCodeAt(secret!, t.clock.now()),
    });
    expect(viewer).toMatchObject({
      kind: "agent",
      email: "lea@desk.example",
      name: "Léa",
      teams: ["casablanca"],
    });
  });

  it("keeps its token for the page's language links, and forgets it once used", async () => {
    const agents = await start();
    const { setupUrl } = await agents.addAgent(
      { email: "lea@desk.example", role: "agent", teams: ["casablanca"] },
      TEST_TEAMS,
    );
    const token = setupTokenOf(setupUrl);
    const browser = formClient(t);
    expect((await browser.get(`/agent/setup?token=${token}&lang=en`)).statusCode).toBe(200);
    expect(browser.attributes.get("sesame_agent_setup")).toMatch(
      /HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/,
    );
    expect(browser.attributes.get("sesame_agent_setup")).toMatch(/Path=\/agent\/setup/);
    // The "Français" link of the page carries no token.
    const french = await browser.get("/agent/setup?lang=fr");
    expect(french.statusCode).toBe(200);
    expect(french.body).toContain(fr["agent.setup.title"]);
    expect(french.body).toContain(`value="${token}"`);

    const keyPage = await browser.post("/agent/setup", {
      token,
      password: AGENT_PASSWORD,
      confirmation: AGENT_PASSWORD,
    });
    const secret = /secret=([A-Z2-7]+)/.exec(keyPage.body)![1]!;
    await browser.post("/agent/setup/confirm", { token, code: totpCodeAt(secret, t.clock.now()) });
    expect(browser.jar.get("sesame_agent_setup")).toBe("");
    expect((await browser.get("/agent/setup?lang=fr")).statusCode).toBe(410);
  });

  it("expires after 72 hours", async () => {
    const agents = await start();
    const { setupUrl } = await agents.addAgent(
      { email: "late@desk.example", role: "agent", teams: ["casablanca"] },
      TEST_TEAMS,
    );
    const token = setupTokenOf(setupUrl);
    t.clock.advance(72 * HOUR - 1);
    expect((await agents.setupOf(token)).email).toBe("late@desk.example");
    t.clock.advance(1);
    expect(await failedCode(agents.setupOf(token))).toBe("ERR_AGENT_SETUP_LINK");
    const page = await t.server.inject({ url: `/agent/setup?token=${token}` });
    expect(page.statusCode).toBe(410);
    expect(await failedCode(agents.setPassword(token, AGENT_PASSWORD, AGENT_PASSWORD))).toBe(
      "ERR_AGENT_SETUP_LINK",
    );
  });

  it("refuses a second agent with the same address, whatever its case", async () => {
    const agents = await start();
    await agents.addAgent({ email: "twin@desk.example", role: "agent", teams: ["casablanca"] }, TEST_TEAMS);
    expect(
      await failedCode(
        agents.addAgent({ email: "TWIN@desk.example", role: "admin", teams: ["belux"] }, TEST_TEAMS),
      ),
    ).toBe("ERR_AGENT_EXISTS");
  });
});

describe("sign-in", () => {
  it("needs the right password AND the right current code", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    const now = t.clock.now();
    const wrongCode = totpCodeAt(agent.secret, now) === "000000" ? "111111" : "000000";
    expect(await failedCode(signInWith(agent, { password: "not the password at all" }))).toBe(
      "ERR_AGENT_SIGNIN_FAILED",
    );
    expect(await failedCode(signInWith(agent, { code: wrongCode }))).toBe("ERR_AGENT_SIGNIN_FAILED");
    // A code from a minute ago is past the one step of drift allowed.
    expect(
      await failedCode(signInWith(agent, { code: totpCodeAt(agent.secret, now - 2 * TOTP_PERIOD_MS) })),
    ).toBe("ERR_AGENT_SIGNIN_FAILED");
    const { viewer, session } = await signInWith(agent, { email: "  JO@desk.example " });
    expect(viewer).toMatchObject({ kind: "agent", agentId: agent.id, role: "agent", teams: ["casablanca"] });
    expect(await agents.viewerFromSession(session)).toEqual(viewer);
  });

  it("never accepts the same code twice, even for the same agent's second sign-in", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    const code = totpCodeAt(agent.secret, t.clock.now());
    await signInWith(agent, { code });
    expect(await failedCode(signInWith(agent, { code }))).toBe("ERR_AGENT_SIGNIN_FAILED");
    // The next code works.
    t.clock.advance(TOTP_PERIOD_MS);
    await signInWith(agent);
    // An earlier code still inside the drift window is refused too: steps only move forward.
    expect(
      await failedCode(signInWith(agent, { code: totpCodeAt(agent.secret, t.clock.now() - TOTP_PERIOD_MS) })),
    ).toBe("ERR_AGENT_SIGNIN_FAILED");
  });

  it("answers every failure with the same page: unknown address, wrong password, wrong code, replay, throttle, disabled", async () => {
    await start();
    const agents = t.app.services.agents;
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    const browser = formClient(t);
    await browser.get("/agent/signin?lang=en");
    const attempt = async (fields: { email?: string; password?: string; code?: string }) => {
      const response = await browser.post("/agent/signin", {
        email: agent.email,
        password: agent.password,
        code: totpCodeAt(agent.secret, t.clock.now()),
        lang: "en",
        ...fields,
      });
      return {
        status: response.statusCode,
        cookie: response.headers["set-cookie"] ? "set" : "none",
        body: response.body
          .replace(/name="_csrf" value="[^"]+"/, "")
          .replaceAll(fields.email ?? agent.email, "EMAIL"),
      };
    };
    const unknown = await attempt({ email: "nobody@desk.example" });
    const wrongPassword = await attempt({ password: "not the password at all" });
    const wrongCode = await attempt({
      code: "000000" === totpCodeAt(agent.secret, t.clock.now()) ? "111111" : "000000",
    });
    const used = totpCodeAt(agent.secret, t.clock.now());
    expect((await attempt({ code: used })).status).toBe(303);
    const replay = await attempt({ code: used });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toContain(en["error.ERR_AGENT_SIGNIN_FAILED"]);
    for (const other of [wrongPassword, wrongCode, replay]) expect(other).toEqual(unknown);

    // Throttled: the right password and code get the very same answer.
    for (let i = 0; i < 5; i++) await attempt({ password: "not the password at all" });
    t.clock.advance(TOTP_PERIOD_MS);
    expect(await attempt({})).toEqual(unknown);

    const other = await readyAgent(agents, t.clock, { email: "gone@desk.example" });
    await agents.disableAgent(other.email);
    const disabled = await browser.post("/agent/signin", {
      email: other.email,
      password: other.password,
      code: totpCodeAt(other.secret, t.clock.now()),
      lang: "en",
    });
    expect(disabled.statusCode).toBe(401);
    expect(disabled.body.replace(/name="_csrf" value="[^"]+"/, "").replaceAll(other.email, "EMAIL")).toBe(
      unknown.body,
    );
  });

  it("pauses an agent's sign-in for 15 minutes after 5 failures in a row; a success resets the count", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    const wrong = { password: "not the password at all" };
    for (let i = 0; i < 4; i++)
      expect(await failedCode(signInWith(agent, wrong))).toBe("ERR_AGENT_SIGNIN_FAILED");
    await signInWith(agent); // the fifth attempt succeeds: the count starts again
    t.clock.advance(TOTP_PERIOD_MS);
    for (let i = 0; i < 4; i++)
      expect(await failedCode(signInWith(agent, wrong))).toBe("ERR_AGENT_SIGNIN_FAILED");
    await signInWith(agent);
    t.clock.advance(TOTP_PERIOD_MS);

    for (let i = 0; i < 5; i++)
      expect(await failedCode(signInWith(agent, wrong))).toBe("ERR_AGENT_SIGNIN_FAILED");
    expect(await failedCode(signInWith(agent))).toBe("ERR_AGENT_SIGNIN_FAILED");
    t.clock.advance(15 * MINUTE - TOTP_PERIOD_MS - 1);
    expect(await failedCode(signInWith(agent))).toBe("ERR_AGENT_SIGNIN_FAILED");
    t.clock.advance(TOTP_PERIOD_MS + 1);
    const { viewer } = await signInWith(agent);
    expect(viewer).toMatchObject({ agentId: agent.id });
  });

  it("counts failures per source: a stranger's noise elsewhere never locks the agent out of their desk", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    const stranger = { password: "not the password at all", ip: "203.0.113.9" };
    for (let i = 0; i < 20; i++)
      expect(await failedCode(signInWith(agent, stranger))).toBe("ERR_AGENT_SIGNIN_FAILED");
    // The stranger is paused, with the right password too...
    expect(await failedCode(signInWith(agent, { ip: "203.0.113.9" }))).toBe("ERR_AGENT_SIGNIN_FAILED");
    t.clock.advance(TOTP_PERIOD_MS);
    // ...the agent at their own desk is not. An IPv6 /64 is one source, however its hosts vary.
    expect((await signInWith(agent, { ip: "198.51.100.7" })).viewer).toMatchObject({ agentId: agent.id });
    t.clock.advance(TOTP_PERIOD_MS);
    for (let i = 0; i < 5; i++)
      await failedCode(signInWith(agent, { password: "wrong", ip: `2001:db8:1:2::${i + 1}` }));
    expect(await failedCode(signInWith(agent, { ip: "2001:db8:1:2::99" }))).toBe("ERR_AGENT_SIGNIN_FAILED");
  });

  it("refuses a disabled agent and ends its sessions and tokens", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    const session = await agentSession(agents, t.clock, agent);
    const token = await agents.issueToken(agent.email);
    expect((await meWith(token)).statusCode).toBe(200);
    await agents.disableAgent(agent.email);
    expect(await failedCode(signInWith(agent))).toBe("ERR_AGENT_SIGNIN_FAILED");
    expect(await agents.viewerFromSession(session)).toBeNull();
    expect((await meWith(token)).statusCode).toBe(401);
    expect(await failedCode(agents.issueToken(agent.email))).toBe("ERR_AGENT_NOT_FOUND");
  });
});

describe("sessions", () => {
  it("end on sign-out, after 8 hours unused, and 12 hours after sign-in however used", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });

    const signedOut = await agentSession(agents, t.clock, agent);
    await agents.signOut(signedOut);
    expect(await agents.viewerFromSession(signedOut)).toBeNull();

    // agentSession moves the clock one TOTP step past the sign-in.
    const fresh = await agentSession(agents, t.clock, agent);
    t.clock.advance(8 * HOUR - TOTP_PERIOD_MS - 1);
    expect(await agents.viewerFromSession(fresh)).not.toBeNull();
    const idle = await agentSession(agents, t.clock, agent);
    t.clock.advance(8 * HOUR - TOTP_PERIOD_MS);
    expect(await agents.viewerFromSession(idle)).toBeNull();

    const busy = await agentSession(agents, t.clock, agent);
    const started = t.clock.now() - TOTP_PERIOD_MS;
    for (let hour = 1; hour < 12; hour++) {
      t.clock.advance(started + hour * HOUR - t.clock.now());
      expect(await agents.viewerFromSession(busy), `hour ${hour}`).not.toBeNull();
    }
    t.clock.advance(started + 12 * HOUR - t.clock.now());
    expect(await agents.viewerFromSession(busy)).toBeNull();
  });

  it("are stored hashed, in an httpOnly SameSite=Strict cookie, Secure under https", async () => {
    await start({ PUBLIC_URL: "https://desk.sesame.test" });
    const agent = await readyAgent(t.app.services.agents, t.clock, { email: "jo@desk.example" });
    const browser = formClient(t);
    await browser.get("/agent/signin");
    const response = await browser.post("/agent/signin", {
      email: agent.email,
      password: agent.password,
      code: totpCodeAt(agent.secret, t.clock.now()),
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/agent?lang=en");
    const cookie = browser.attributes.get(AGENT_SESSION_COOKIE)!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Path=\//);
    const value = browser.jar.get(AGENT_SESSION_COOKIE)!;
    const rows = await t.database.db.selectFrom("agent_sessions").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(value);

    const signin = await t.database.db
      .selectFrom("audit_log")
      .select("detail")
      .where("stream", "=", agentStream(agent.id))
      .where("type", "=", "agent.signin")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(signin.detail)).toEqual({ ip: "127.0.0.1" });

    const home = await browser.get("/agent?lang=en");
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain("casablanca");

    const out = await browser.post("/agent/signout", { lang: "en" });
    expect(out.statusCode).toBe(200);
    expect(out.body).toContain(en["agent.signedout.title"]);
    expect(browser.jar.get(AGENT_SESSION_COOKIE)).toBe("");
    // The old value no longer opens the console.
    const replayed = await t.server.inject({
      url: "/agent",
      headers: { cookie: `${AGENT_SESSION_COOKIE}=${value}` },
    });
    expect(replayed.statusCode).toBe(303);
  });

  it("are not cookies of http deployments marked Secure", async () => {
    await start();
    const agent = await readyAgent(t.app.services.agents, t.clock, { email: "jo@desk.example" });
    const browser = formClient(t);
    await browser.get("/agent/signin");
    await browser.post("/agent/signin", {
      email: agent.email,
      password: agent.password,
      code: totpCodeAt(agent.secret, t.clock.now()),
    });
    expect(browser.attributes.get(AGENT_SESSION_COOKIE)).not.toMatch(/Secure/);
  });
});

describe("personal API tokens", () => {
  it("work as Bearer on agent routes until revoked, and are stored hashed", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, {
      email: "jo@desk.example",
      teams: ["casablanca", "maastricht"],
    });
    const token = await agents.issueToken(agent.email);
    const me = await meWith(token);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({
      id: agent.id,
      email: agent.email,
      name: "jo",
      role: "agent",
      teams: ["casablanca", "maastricht"],
    });
    const rows = await t.database.db.selectFrom("agent_tokens").selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]!.last_used_at).toBe(t.clock.now());

    expect(await agents.revokeTokens(agent.email)).toBe(1);
    const refused = await meWith(token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe("ERR_AGENT_UNAUTHORIZED");
    expect((await meWith(`${token}x`)).statusCode).toBe(401);
  });

  it("stop working, like sessions and the old password, when the agent is reset", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    const token = await agents.issueToken(agent.email);
    const session = await agentSession(agents, t.clock, agent);
    const { setupUrl } = await agents.resetAgent(agent.email);
    expect((await meWith(token)).statusCode).toBe(401);
    expect(await agents.viewerFromSession(session)).toBeNull();
    expect(await failedCode(signInWith(agent))).toBe("ERR_AGENT_SIGNIN_FAILED");
    expect((await agents.setupOf(setupTokenOf(setupUrl))).email).toBe(agent.email);
  });
});

describe("audit and retention", () => {
  it("records setup, sign-in success and failure, token issued and sign-out in the agent's chain, without secrets", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    expect(await failedCode(signInWith(agent, { password: "not the password at all" }))).toBe(
      "ERR_AGENT_SIGNIN_FAILED",
    );
    const session = await agentSession(agents, t.clock, agent);
    const token = await agents.issueToken(agent.email);
    await agents.signOut(session);
    expect(await failedCode(signInWith(agent, { email: "nobody@desk.example" }))).toBe(
      "ERR_AGENT_SIGNIN_FAILED",
    );

    const entries = await t.database.db
      .selectFrom("audit_log")
      .selectAll()
      .where("stream", "=", agentStream(agent.id))
      .orderBy("seq")
      .execute();
    expect(entries.map((e) => e.type)).toEqual([
      "agent.added",
      "agent.setup_password",
      "agent.setup_done",
      "agent.signin_failed",
      "agent.signin",
      "agent.token_issued",
      "agent.signout",
    ]);
    expect(JSON.parse(entries[3]!.detail)).toEqual({ reason: "password" });
    expect(entries.every((e) => e.actor === `agent:${agent.id}`)).toBe(true);
    const all = JSON.stringify(await t.database.db.selectFrom("audit_log").selectAll().execute());
    for (const secret of [token, session, agent.secret, agent.password]) expect(all).not.toContain(secret);
    expect(all).toContain("agent-address:");
    expect(await verifyAuditChain(t.database.db, agentStream(agent.id), t.app.platform.auditKey)).toBeNull();
  });

  it("deletes sessions and tokens 30 days after they ended", async () => {
    const agents = await start();
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    await agentSession(agents, t.clock, agent);
    const live = await agents.issueToken(agent.email);
    await agents.issueToken(agent.email);
    t.clock.advance(DAY);
    await agents.revokeTokens(agent.email);
    const kept = await agents.issueToken(agent.email);
    t.clock.advance(30 * DAY - 12 * HOUR);
    expect(await agents.purgeEnded()).toEqual({ sessions: 1, tokens: 0 });
    t.clock.advance(12 * HOUR + 1);
    expect(await agents.purgeEnded()).toEqual({ sessions: 0, tokens: 2 });
    expect((await meWith(live)).statusCode).toBe(401);
    expect((await meWith(kept)).statusCode).toBe(200);
  });
});
