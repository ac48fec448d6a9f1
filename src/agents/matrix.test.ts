import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, type TestApp, testApp } from "../../test/helpers.js";
import { AGENT_SESSION_COOKIE } from "./guard.js";
import type { Role } from "./model.js";
import { agentSession, type ReadyAgent, readyAgent } from "./testing.js";

/**
 * The role matrix over every agent route: each route, each kind of caller, the answer expected.
 * Adding a route is one line in `routes` (the desk's routes go there too).
 */
type Caller = "anonymous" | "revoked" | Role | "service";

interface RouteCase {
  method: "GET" | "POST";
  url: string;
  /** "page": the console (session cookie); "api": JSON (Bearer personal token, or the service token). */
  kind: "page" | "api";
  /** Roles allowed; the others get 403. */
  roles: readonly Role[];
  /** Whether SESAME_API_TOKEN is accepted (API routes only). */
  service?: boolean;
  /** The status of an allowed call (200 unless said). */
  ok?: number;
  /** JSON body (api), or form fields (page POST: sent with a valid CSRF token, as a browser would). */
  payload?: Record<string, string | number | boolean>;
  /** Open to every caller, signed in or not (sign-out). */
  public?: true;
  /** Ends the caller's session: run after every other route. */
  endsSession?: true;
}

const ALL: readonly Role[] = ["agent", "supervisor", "admin"];
const LEADS: readonly Role[] = ["supervisor", "admin"];
// Every caller is of team casablanca; `{case}` is a fresh casablanca case for each call.
const routes: RouteCase[] = [
  { method: "GET", url: "/agent", kind: "page", roles: ALL },
  { method: "GET", url: "/api/v1/agent/me", kind: "api", roles: ALL, service: false },
  { method: "GET", url: "/api/v1/agents", kind: "api", roles: LEADS, service: true },
  // The desk's JSON API.
  { method: "GET", url: "/api/v1/teams", kind: "api", roles: ALL, service: true },
  { method: "GET", url: "/api/v1/teams/casablanca/queue", kind: "api", roles: ALL, service: true },
  { method: "GET", url: "/api/v1/teams/belux/queue", kind: "api", roles: LEADS, service: true },
  { method: "GET", url: "/api/v1/cases/{case}", kind: "api", roles: ALL, service: true },
  {
    method: "POST",
    url: "/api/v1/cases/{case}/messages",
    kind: "api",
    roles: ALL,
    service: false,
    ok: 201,
    payload: { body: "Looked at it.", visibility: "internal" },
  },
  {
    method: "POST",
    url: "/api/v1/cases/{case}/escalate",
    kind: "api",
    roles: ALL,
    service: false,
    payload: { reason: "needs the country team" },
  },
  { method: "POST", url: "/api/v1/cases/{case}/resolve", kind: "api", roles: ALL, service: false },
  {
    method: "POST",
    url: "/api/v1/calls",
    kind: "api",
    roles: [],
    service: true,
    ok: 201,
    payload: { callerNumber: "+32470123456", language: "fr", centre: "casablanca" },
  },
  // The console.
  { method: "GET", url: "/agent/teams/casablanca", kind: "page", roles: ALL },
  { method: "GET", url: "/agent/teams/belux", kind: "page", roles: LEADS },
  { method: "GET", url: "/agent/search?q=marie%40example.be", kind: "page", roles: ALL },
  { method: "GET", url: "/agent/cases/{case}", kind: "page", roles: ALL },
  {
    method: "POST",
    url: "/agent/cases/{case}/reply",
    kind: "page",
    roles: ALL,
    payload: { body: "Bonjour." },
  },
  { method: "POST", url: "/agent/cases/{case}/note", kind: "page", roles: ALL, payload: { body: "Note." } },
  { method: "POST", url: "/agent/cases/{case}/call", kind: "page", roles: ALL, payload: { body: "Called." } },
  {
    method: "POST",
    url: "/agent/cases/{case}/escalate",
    kind: "page",
    roles: ALL,
    payload: { reason: "Up." },
  },
  {
    method: "POST",
    url: "/agent/cases/{case}/reassign",
    kind: "page",
    roles: LEADS,
    payload: { team: "maastricht", reason: "Dutch speaker" },
  },
  { method: "POST", url: "/agent/cases/{case}/resolve", kind: "page", roles: ALL },
  { method: "POST", url: "/agent/signout", kind: "page", roles: ALL, public: true, endsSession: true },
];

const callers: Caller[] = ["anonymous", "revoked", "agent", "supervisor", "admin", "service"];

/** What a caller must get on a route. */
function expected(route: RouteCase, caller: Caller): number | "signin" {
  const ok = route.ok ?? 200;
  if (route.public) return ok;
  if (route.kind === "page") {
    if (caller === "anonymous" || caller === "revoked" || caller === "service") return "signin";
    return route.roles.includes(caller) ? ok : 403;
  }
  if (caller === "anonymous" || caller === "revoked") return 401;
  if (caller === "service") return route.service ? ok : 403;
  return route.roles.includes(caller) ? ok : 403;
}

describe("the role matrix over every agent route", () => {
  let t: TestApp;
  const credentials = new Map<Caller, { cookie: string; bearer: string }>();

  beforeAll(async () => {
    t = await testApp();
    const { agents } = t.app.services;
    const people: Partial<Record<Role | "revoked", ReadyAgent>> = {};
    for (const role of ALL)
      people[role] = await readyAgent(agents, t.clock, {
        email: `${role}@desk.example`,
        role,
        teams: ["casablanca"],
      });
    people.revoked = await readyAgent(agents, t.clock, { email: "revoked@desk.example", role: "admin" });
    for (const [who, agent] of Object.entries(people)) {
      const session = await agentSession(agents, t.clock, agent);
      const token = await agents.issueToken(agent.email);
      credentials.set(who as Caller, {
        cookie: `${AGENT_SESSION_COOKIE}=${session}`,
        bearer: `Bearer ${token}`,
      });
    }
    await agents.disableAgent("revoked@desk.example");
    credentials.set("service", { cookie: "", bearer: auth.authorization });
    credentials.set("anonymous", { cookie: "", bearer: "" });
  });
  afterAll(() => t?.close());

  let opened = 0;
  const ordered = [...routes.filter((r) => !r.endsSession), ...routes.filter((r) => r.endsSession)];
  const cases = ordered.flatMap((route) => callers.map((caller) => ({ route, caller })));
  it.each(cases)("$route.method $route.url as $caller", async ({ route, caller }) => {
    const { cookie, bearer } = credentials.get(caller)!;
    const headers: Record<string, string> = {};
    const cookies = route.kind === "page" && cookie ? [cookie] : [];
    if (route.kind === "api" && bearer) headers.authorization = bearer;
    // A page caller with only the service token still gets the sign-in: pages take sessions only.
    if (route.kind === "page" && caller === "service") headers.authorization = bearer;
    let payload: string | Record<string, unknown> | undefined = route.payload;
    if (route.kind === "page" && route.method === "POST") {
      // A form post as a browser sends it: the CSRF cookie and token of a page it was shown.
      const form = await t.server.inject({ url: "/agent/signin" });
      const csrfCookie = String(form.headers["set-cookie"]).split(";")[0]!;
      const token = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
      cookies.push(csrfCookie);
      headers["content-type"] = "application/x-www-form-urlencoded";
      const fields = Object.fromEntries(Object.entries(route.payload ?? {}).map(([k, v]) => [k, String(v)]));
      payload = new URLSearchParams({ _csrf: token, ...fields }).toString();
    }
    if (cookies.length > 0) headers.cookie = cookies.join("; ");
    let url = route.url;
    if (url.includes("{case}")) {
      const fresh = await t.app.services.desk.openFromWeb(
        {
          contactEmail: `c${++opened}@example.be`,
          language: "fr",
          country: "BE",
          subject: "Boîte bloquée",
          body: "Aidez-moi.",
        },
        "web",
      );
      url = url.replace("{case}", fresh.ref);
    }
    const response = await t.server.inject({
      method: route.method,
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    const want = expected(route, caller);
    if (want === "signin") {
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toMatch(/^\/agent\/signin\?lang=\w\w$/);
      return;
    }
    expect(response.statusCode, response.body).toBe(want);
    if (route.kind === "api" && want >= 400)
      expect(response.json().error.code).toBe(want === 401 ? "ERR_AGENT_UNAUTHORIZED" : "ERR_FORBIDDEN");
  });

  it("records the read of the agents list in the reader's audit chain", async () => {
    const rows = await t.database.db
      .selectFrom("audit_log")
      .select(["stream", "type"])
      .where("type", "=", "agents.listed")
      .execute();
    const streams = rows.map((r) => r.stream).sort();
    expect(streams).toHaveLength(3); // supervisor, admin, service
    expect(streams).toContain("service");
  });
});
