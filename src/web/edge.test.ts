import { afterEach, describe, expect, it } from "vitest";
import {
  API_TOKEN,
  auth,
  createAccount,
  freshDatabase,
  lockAccount,
  logSink,
  maria,
  STRONG_PASSWORD,
  type TestApp,
  testApp,
} from "../../test/helpers.js";
import { loadConfig } from "../config.js";
import { ManualClock } from "../platform/clock.js";
import { AppError } from "../platform/errors.js";
import { type Locale, locales, translator } from "../platform/i18n.js";
import { buildApp } from "../server.js";
import { securityHeaders } from "./security.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function app(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await testApp(env);
  closers.push(t.close);
  return t;
}

/** An app whose log (at trace level) is kept as parsed lines, to see what it records of each request. */
async function loggedApp(env: Record<string, string> = {}) {
  const sink = logSink();
  const database = await freshDatabase();
  const config = loadConfig({
    SESAME_SECRET: "edge-test-secret-0123456789-0123456789",
    SESAME_API_TOKEN: API_TOKEN,
    SESAME_CLOCK: "manual",
    SESAME_RATE_LIMIT_PER_IP: "0",
    DATABASE_URL: "sqlite::memory:",
    LOG_LEVEL: "trace",
    ...env,
  });
  const built = await buildApp({ config, database, clock: new ManualClock(), logger: sink.stream });
  closers.push(async () => {
    await built.server.close();
    await database.drop();
  });
  return {
    server: built.server,
    text: sink.text,
    lines: () =>
      sink
        .text()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown> & { level: number; msg: string }),
  };
}

describe("SESAME_TRUST_PROXY", () => {
  const ipOf = async (
    logged: Awaited<ReturnType<typeof loggedApp>>,
    remoteAddress: string,
    forwardedFor?: string,
  ) => {
    const before = logged.lines().length;
    await logged.server.inject({
      url: "/healthz",
      remoteAddress,
      headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
    });
    const incoming = logged
      .lines()
      .slice(before)
      .find((line) => line.msg === "incoming request") as unknown as { req: { remoteAddress: string } };
    return incoming.req.remoteAddress;
  };

  it("false: X-Forwarded-For is ignored", async () => {
    const logged = await loggedApp({ SESAME_TRUST_PROXY: "false" });
    expect(await ipOf(logged, "10.0.0.1", "198.51.100.7")).toBe("10.0.0.1");
  });

  it("true: one hop, the right-most entry (added by our proxy), never a client-chosen one", async () => {
    const logged = await loggedApp({ SESAME_TRUST_PROXY: "true" });
    expect(await ipOf(logged, "10.0.0.1", "198.51.100.7")).toBe("198.51.100.7");
    expect(await ipOf(logged, "10.0.0.1", "1.2.3.4, 198.51.100.7")).toBe("198.51.100.7");
    expect(await ipOf(logged, "10.0.0.1")).toBe("10.0.0.1");
  });

  it("a number of hops", async () => {
    const logged = await loggedApp({ SESAME_TRUST_PROXY: "2" });
    expect(await ipOf(logged, "10.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2")).toBe("198.51.100.7");
  });

  it("a list of trusted proxies (IPs and CIDRs): only they may name the client", async () => {
    const logged = await loggedApp({ SESAME_TRUST_PROXY: "10.0.0.0/8, 192.0.2.5" });
    expect(await ipOf(logged, "10.1.2.3", "1.2.3.4, 198.51.100.7")).toBe("198.51.100.7");
    expect(await ipOf(logged, "192.0.2.5", "198.51.100.8")).toBe("198.51.100.8");
    expect(await ipOf(logged, "192.0.2.6", "198.51.100.8")).toBe("192.0.2.6");
    // A trusted proxy behind a trusted proxy: the first untrusted address from the right.
    expect(await ipOf(logged, "10.1.2.3", "1.2.3.4, 198.51.100.7, 10.9.9.9")).toBe("198.51.100.7");
  });

  it("refuses what is none of these with a message naming the setting", () => {
    for (const bad of ["yes", "10.0.0.0/33", "not-an-ip", "1.2.3.4,,", "-1"]) {
      expect(() =>
        loadConfig({
          SESAME_SECRET: "x".repeat(32),
          DATABASE_URL: "sqlite::memory:",
          SESAME_TRUST_PROXY: bad,
        }),
      ).toThrow(/SESAME_TRUST_PROXY/);
    }
  });
});

describe("error mapping", () => {
  it("a body over the limit is 413 ERR_PAYLOAD_TOO_LARGE", async () => {
    const t = await app();
    const response = await t.server.inject({
      method: "POST",
      url: "/api/v1/recovery",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ address: "a".repeat(100_000) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe("ERR_PAYLOAD_TOO_LARGE");
  });

  it("the JSON API takes application/json only: forms and text are 415 ERR_UNSUPPORTED_MEDIA_TYPE", async () => {
    const t = await app();
    for (const [type, payload] of [
      ["application/x-www-form-urlencoded", "address=maria-rosa%40hotmail.example&password=x"],
      ["text/plain", '{"address":"maria-rosa@hotmail.example","password":"x"}'],
      [
        "multipart/form-data; boundary=x",
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--',
      ],
      ["application/xml", "<a/>"],
    ] as const) {
      const response = await t.server.inject({
        method: "POST",
        url: "/api/v1/signin",
        headers: { "content-type": type },
        payload,
      });
      expect(response.statusCode, type).toBe(415);
      expect(response.json().error.code, type).toBe("ERR_UNSUPPORTED_MEDIA_TYPE");
    }
    const json = await t.server.inject({
      method: "POST",
      url: "/api/v1/signin",
      headers: { "content-type": "application/json; charset=utf-8" },
      payload: JSON.stringify({ address: "maria-rosa@hotmail.example", password: "x" }),
    });
    expect(json.statusCode).toBe(401);
  });

  it("a NUL character in a body, a path parameter or a query is a coded 400, never a 500", async () => {
    const t = await app();
    await createAccount(t, maria);
    const attempts = [
      {
        method: "POST" as const,
        url: "/api/v1/recovery",
        payload: { address: "maria\u0000@hotmail.example" },
      },
      {
        method: "POST" as const,
        url: "/api/v1/accounts",
        headers: auth,
        payload: { address: "a@b.example", password: STRONG_PASSWORD, displayName: "Maria\u0000" },
      },
      { method: "GET" as const, url: "/api/v1/accounts/maria%00@hotmail.example", headers: auth },
      { method: "POST" as const, url: "/api/v1/recovery/abc%00/code", payload: { code: "123456" } },
      { method: "GET" as const, url: "/recover?address=a%00b" },
      { method: "GET" as const, url: "/recover/abc%00/channel" },
    ];
    for (const attempt of attempts) {
      const response = await t.server.inject(attempt);
      expect(response.statusCode, attempt.url).toBe(400);
      if (attempt.url.startsWith("/api/")) expect(response.json().error.code).toBe("ERR_VALIDATION");
      else expect(response.body).toContain(translator("en")("error.ERR_VALIDATION"));
    }
    // Nothing was written.
    const created = await t.server.inject({ url: "/api/v1/accounts/a@b.example", headers: auth });
    expect(created.statusCode).toBe(404);
  });
});

describe("addresses", () => {
  it("NFC and NFD forms are one account, a trailing dot is dropped, invisible characters are refused", async () => {
    const t = await app();
    const nfc = "jos\u00e9@x.example";
    const nfd = "jose\u0301@x.example";
    expect(nfc).not.toBe(nfd);
    await createAccount(t, { address: nfc });
    const again = await t.server.inject({
      method: "POST",
      url: "/api/v1/accounts",
      headers: auth,
      payload: { address: nfd, password: STRONG_PASSWORD },
    });
    expect(again.statusCode).toBe(409);
    const dotted = await t.server.inject({
      url: `/api/v1/accounts/${encodeURIComponent("jose\u0301@x.example.")}`,
      headers: auth,
    });
    expect(dotted.statusCode).toBe(200);
    expect(dotted.json().address).toBe(nfc);
    for (const invisible of [
      "jos\u00e9\u200b@x.example",
      "jos\u00e9@x\u200d.example",
      "\u202ejos\u00e9@x.example",
    ]) {
      const refused = await t.server.inject({
        method: "POST",
        url: "/api/v1/accounts",
        headers: auth,
        payload: { address: invisible, password: STRONG_PASSWORD },
      });
      expect(refused.statusCode, JSON.stringify(invisible)).toBe(400);
      expect(refused.json().error.code).toBe("ERR_VALIDATION");
    }
  });
});

describe("framework errors", () => {
  const securityHeaders = (headers: Record<string, unknown>) => {
    expect(headers["content-security-policy"]).toContain("default-src 'none'");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["x-frame-options"]).toBeDefined();
    expect(headers["cache-control"]).toBe("no-store");
  };

  it("a malformed URL answers the coded JSON error on the API, with every header", async () => {
    const t = await app();
    const response = await t.server.inject({ url: "/api/v1/accounts/%ED%A0%80", headers: auth });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: "ERR_VALIDATION" });
    expect(response.body).not.toContain("FST_");
    securityHeaders(response.headers);
  });

  it("a malformed URL or an overlong id on a page answers the localised error page, with every header", async () => {
    const t = await app();
    for (const url of ["/%", "/%ff?lang=fr", `/recover/${"a".repeat(5000)}/channel?lang=fr`]) {
      const response = await t.server.inject({ url, headers: { "accept-language": "fr" } });
      expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, url).toBeLessThan(500);
      expect(response.headers["content-type"], url).toContain("text/html");
      expect(response.body, url).toContain(translator("fr")("error.title"));
      expect(response.body).not.toContain("FST_");
      securityHeaders(response.headers);
    }
  });

  it("path parameters take any address the API accepts: a 110-character address is created, read, locked and audited", async () => {
    const t = await app();
    const address = `${"m".repeat(96)}@x-mail.example`;
    expect(address).toHaveLength(111);
    await createAccount(t, { address });
    const path = `/api/v1/accounts/${encodeURIComponent(address)}`;
    expect((await t.server.inject({ url: path, headers: auth })).json().address).toBe(address);
    await lockAccount(t, encodeURIComponent(address));
    expect((await t.server.inject({ url: path, headers: auth })).json().status).toBe("locked");
    const audit = await t.server.inject({ url: `${path}/audit`, headers: auth });
    expect(audit.statusCode).toBe(200);
    expect(audit.json().events.map((e: { type: string }) => e.type)).toContain("account.locked");
    // The longest address, percent-encoded in full, still reaches the route.
    const longest = `${"é".repeat(240)}@x.example`;
    expect(longest.length).toBeLessThanOrEqual(254);
    const read = await t.server.inject({
      url: `/api/v1/accounts/${encodeURIComponent(longest)}`,
      headers: auth,
    });
    expect(read.json().error.code).toBe("ERR_ACCOUNT_NOT_FOUND");
  });
});

describe("security headers", () => {
  it("are helmet's, on every kind of answer: API success, coded refusal, unknown route, page, 500", async () => {
    const t = await loggedApp();
    const expected = securityHeaders(false);
    // What helmet itself sets with this configuration (taken from it once, see securityHeaders).
    expect(expected["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(expected).toMatchObject({
      "x-content-type-options": "nosniff",
      "x-frame-options": "SAMEORIGIN",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
    });
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(11);
    expect(securityHeaders(true)["strict-transport-security"]).toContain("max-age=");
    expect(securityHeaders(true)["content-security-policy"]).toContain("upgrade-insecure-requests");
    expect(expected["strict-transport-security"]).toBeUndefined();
    t.server.get("/api/v1/broken-for-test", async () => {
      throw new Error("boom");
    });
    const answers = [
      await t.server.inject({ method: "POST", url: "/api/v1/recovery", payload: { address: "a@b.example" } }),
      await t.server.inject({ method: "POST", url: "/api/v1/recovery", payload: { address: "" } }),
      await t.server.inject({ url: "/api/v1/nowhere" }),
      await t.server.inject({ url: "/" }),
      await t.server.inject({ url: "/api/v1/broken-for-test" }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([201, 400, 404, 200, 500]);
    for (const answer of answers)
      for (const [name, value] of Object.entries(expected)) expect(answer.headers[name], name).toBe(value);
  });
});

describe("service routes", () => {
  it("check the token before the body: an anonymous request never learns what the body should be", async () => {
    const t = await app();
    for (const [url, payload] of [
      ["/api/v1/accounts", {}],
      ["/api/v1/accounts/a@b.example/lock", { reason: "nonsense" }],
      ["/api/v1/events", { type: 1 }],
      ["/api/v1/dev/clock", { advanceMs: -1 }],
    ] as const) {
      const response = await t.server.inject({ method: "POST", url, payload });
      expect(response.statusCode, url).toBe(401);
      expect(response.json().error.code).toBe("ERR_UNAUTHORIZED");
      expect(Object.keys(response.json().error).sort()).toEqual(["code", "message"]);
    }
  });
});

describe("links on pages", () => {
  const hrefs = (html: string) =>
    [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!).filter((href) => !href.startsWith("#"));

  it("are built from the route, never from the raw path: no protocol-relative or foreign link", async () => {
    const t = await app();
    for (const url of [
      "//evil.example/login",
      "//evil.example/recover?lang=fr",
      "/\\evil.example/x",
      "/nope/../..//evil.example",
    ]) {
      const response = await t.server.inject({ url });
      for (const href of hrefs(response.body)) {
        expect(href, `${url} -> ${href}`).toMatch(/^\/(?![/\\])/);
        expect(href).not.toContain("evil");
      }
    }
    // On a matched page the switcher keeps the page.
    const signin = await t.server.inject({ url: "/signin?lang=en" });
    expect(hrefs(signin.body)).toContain("/signin?lang=fr");
  });
});

describe("logs", () => {
  it("name route patterns, not paths with ids, and log refusals below error", async () => {
    const logged = await loggedApp();
    await logged.server.inject({
      method: "POST",
      url: "/api/v1/accounts",
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { ...maria, password: STRONG_PASSWORD },
    });
    const id = (
      await logged.server.inject({
        method: "POST",
        url: "/api/v1/recovery",
        payload: { address: maria.address },
      })
    ).json().recoveryId as string;
    expect(id).toBeTruthy();
    await logged.server.inject({ url: `/recover/${id}/channel?lang=fr` });
    await logged.server.inject({
      method: "POST",
      url: `/api/v1/recovery/${id}/code`,
      payload: { code: "000000" },
    });
    await logged.server.inject({ url: "/recover/no-such-recovery/channel" });
    await logged.server.inject({ url: "/recover/unmatched-recovery/no-such-step" });
    await logged.server.inject({ url: "/recover/malformed-recovery%ff/channel" });
    await logged.server.inject({ url: "/api/v1/accounts/nobody@x.example", headers: auth });
    await logged.server.inject({ method: "POST", url: "/api/v1/signin", payload: {} });

    expect(logged.text()).toContain("/recover/:id/channel");
    expect(logged.text()).toContain("/api/v1/recovery/:id/code");
    expect(logged.text()).not.toContain(id);
    for (const handle of ["no-such-recovery", "unmatched-recovery", "malformed-recovery"])
      expect(logged.text()).not.toContain(handle);
    expect(logged.text()).not.toContain("nobody@x.example");
    // Refusals at info or below: nothing at warn (40) or above.
    const loud = logged.lines().filter((line) => line.level > 30);
    expect(loud).toEqual([]);
    const refusals = logged.lines().filter((line) => line.msg === "request refused");
    expect(refusals.length).toBeGreaterThanOrEqual(5);
    // The operator can read why: the coded error, not "[redacted]".
    expect(refusals.map((line) => line.errorCode)).toContain("ERR_RECOVERY_NOT_FOUND");
  });

  it("log a part of the server that failed at warn with its reason, which the answer does not carry", async () => {
    const logged = await loggedApp();
    logged.server.get("/api/v1/test/thread-down", async () => {
      const error = new AppError("ERR_UNAVAILABLE", { retryAfter: 1 });
      error.cause = "password hashing worker exited (1)";
      throw error;
    });
    const response = await logged.server.inject({ url: "/api/v1/test/thread-down" });
    expect(response.statusCode).toBe(503);
    expect(response.headers["retry-after"]).toBe("1");
    expect(response.body).not.toContain("exited");
    const warnings = logged.lines().filter((line) => line.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: "request failed",
        errorCode: "ERR_UNAVAILABLE",
        reason: "password hashing worker exited (1)",
      }),
    ]);
  });

  it("log an unexpected error at error level with its stack, and answer 500 with a correlation id", async () => {
    const logged = await loggedApp();
    // A route of this test only: whatever breaks inside a handler reaches the same error handler.
    logged.server.get("/api/v1/test/broken", async () => {
      throw new TypeError("broken on purpose");
    });
    const response = await logged.server.inject({ url: "/api/v1/test/broken" });
    expect(response.statusCode).toBe(500);
    expect(response.json().error).toMatchObject({ code: "ERR_INTERNAL", correlationId: expect.any(String) });
    expect(response.body).not.toContain("broken on purpose");
    const errors = logged.lines().filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toContain("broken on purpose");
    expect((errors[0] as unknown as { err: { stack: string } }).err.stack).toMatch(
      /TypeError: broken on purpose\n\s+at /,
    );
  });
});

describe("home page", () => {
  it("fills every placeholder and promises no phone line, in every language", async () => {
    const t = await app();
    for (const locale of locales as readonly Locale[]) {
      const page = await t.server.inject({ url: `/?lang=${locale}` });
      expect(page.statusCode).toBe(200);
      expect(page.body, locale).not.toMatch(/\{\w+\}/);
      expect(page.body.replaceAll("&#39;", "'"), locale).toContain(
        translator(locale)("recover.channel.noaccess"),
      );
      expect(page.body, locale).not.toMatch(/call us|appeler|bellen|anrufen/i);
    }
  });
});
