import cookie from "@fastify/cookie";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { API_TOKEN, type TestApp, testApp } from "../../test/helpers.js";
import { registerErrorHandler } from "../web/error-handler.js";
import { AGENT_SESSION_COOKIE, agentApiGuard, agentPageGuard } from "./guard.js";
import { agentSession, readyAgent } from "./testing.js";

/** The guards on routes of their own (the desk's routes use them the same way). */
let t: TestApp;
afterEach(() => t?.close());

async function guardedServer() {
  t = await testApp();
  const { agents } = t.app.services;
  const server = Fastify();
  await server.register(cookie);
  registerErrorHandler(server);
  server.decorate("devMailbox", false);
  const show = async (request: { viewer?: unknown }) => ({ viewer: request.viewer });
  server.get("/pages/admin-only", { onRequest: agentPageGuard(agents, ["admin"]) }, show);
  server.get(
    "/api/v1/admin-only",
    { onRequest: agentApiGuard(agents, { allowService: true, apiToken: API_TOKEN, roles: ["admin"] }) },
    show,
  );
  server.get(
    "/api/v1/agents-only",
    { onRequest: agentApiGuard(agents, { allowService: false, apiToken: API_TOKEN }) },
    show,
  );
  await server.ready();
  const agent = await readyAgent(agents, t.clock, {
    email: "agent@desk.example",
    role: "agent",
    teams: ["casablanca"],
  });
  const admin = await readyAgent(agents, t.clock, {
    email: "admin@desk.example",
    role: "admin",
    teams: ["corp"],
  });
  return {
    server,
    agent: {
      session: await agentSession(agents, t.clock, agent),
      token: await agents.issueToken(agent.email),
    },
    admin: {
      session: await agentSession(agents, t.clock, admin),
      token: await agents.issueToken(admin.email),
    },
  };
}

describe("agentPageGuard", () => {
  it("redirects without a session, refuses a role not listed with the 403 page, lets the listed role in", async () => {
    const { server, agent, admin } = await guardedServer();
    const anonymous = await server.inject({ url: "/pages/admin-only?lang=nl" });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe("/agent/signin?lang=nl");
    const refused = await server.inject({
      url: "/pages/admin-only",
      cookies: { [AGENT_SESSION_COOKIE]: agent.session },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers["content-type"]).toMatch(/^text\/html/);
    const allowed = await server.inject({
      url: "/pages/admin-only",
      cookies: { [AGENT_SESSION_COOKIE]: admin.session },
    });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json().viewer).toMatchObject({
      kind: "agent",
      email: "admin@desk.example",
      role: "admin",
      teams: ["corp"],
    });
    // A personal token is no session.
    const bearer = await server.inject({
      url: "/pages/admin-only",
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(bearer.statusCode).toBe(303);
  });
});

describe("agentApiGuard", () => {
  it("sets request.viewer for a token of a listed role or the service token where allowed; 401/403 otherwise", async () => {
    const { server, agent, admin } = await guardedServer();
    const call = (url: string, token?: string) =>
      server.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await call("/api/v1/admin-only")).json().error.code).toBe("ERR_AGENT_UNAUTHORIZED");
    expect((await call("/api/v1/admin-only", "sat_made-up")).statusCode).toBe(401);
    expect((await call("/api/v1/admin-only", agent.token)).statusCode).toBe(403);
    expect((await call("/api/v1/admin-only", admin.token)).json().viewer).toMatchObject({
      kind: "agent",
      role: "admin",
    });
    expect((await call("/api/v1/admin-only", API_TOKEN)).json().viewer).toEqual({ kind: "service" });
    expect((await call("/api/v1/agents-only", API_TOKEN)).statusCode).toBe(403);
    expect((await call("/api/v1/agents-only", agent.token)).json().viewer).toMatchObject({ role: "agent" });
    // A session cookie is no bearer token.
    const cookieOnly = await server.inject({
      url: "/api/v1/agents-only",
      cookies: { [AGENT_SESSION_COOKIE]: agent.session },
    });
    expect(cookieOnly.statusCode).toBe(401);
  });
});
