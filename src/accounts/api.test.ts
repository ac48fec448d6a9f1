import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auth, createAccount, maria, STRONG_PASSWORD, type TestApp, testApp } from "../../test/helpers.js";
import { MINUTE } from "../platform/clock.js";

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(() => t.close());

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.server.inject({ method: "POST", url, payload: payload as object, headers });
const get = (url: string, headers: Record<string, string> = auth) => t.server.inject({ url, headers });
const signin = (password: string, deviceId?: string, address = maria.address) =>
  post("/api/v1/signin", { address, password, ...(deviceId ? { deviceId } : {}) });
const account = async () => (await get(`/api/v1/accounts/${maria.address}`)).json();

describe("service API: accounts", () => {
  it("creates an account and shows it without secrets, alternates masked", async () => {
    const created = await post(
      "/api/v1/accounts",
      { ...maria, password: STRONG_PASSWORD, address: "Maria-Rosa@Hotmail.example" },
      auth,
    );
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ id: expect.any(String), address: maria.address, status: "active" });

    const shown = await get(`/api/v1/accounts/${maria.address}`);
    expect(shown.statusCode).toBe(200);
    const body = shown.json();
    expect(body.status).toBe("active");
    expect(body.lock).toBeUndefined();
    expect(body.alternates).toHaveLength(3);
    expect(body.alternates).toContainEqual({
      kind: "phone",
      masked: expect.stringMatching(/^\+32.*56$/),
      verified: true,
    });
    expect(shown.body).not.toContain('gmail.example"');
    expect(shown.body).not.toContain("470123456");
    expect(shown.body).not.toMatch(/argon2|password/i);
  });

  it("refuses a second account with the same address, and bad input, with coded errors", async () => {
    await createAccount(t, maria);
    const again = await post(
      "/api/v1/accounts",
      { address: maria.address.toUpperCase(), password: STRONG_PASSWORD },
      auth,
    );
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("ERR_ACCOUNT_EXISTS");
    for (const body of [
      { address: "x", password: STRONG_PASSWORD },
      { address: "a@b.example" },
      { address: "a@b.example", password: STRONG_PASSWORD, alternates: [{ kind: "phone", value: "12" }] },
      {
        address: "a@b.example",
        password: STRONG_PASSWORD,
        alternates: [{ kind: "email", value: "a@b.example", verified: true }],
      },
    ]) {
      const response = await post("/api/v1/accounts", body, auth);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe("ERR_VALIDATION");
    }
    expect((await get("/api/v1/accounts/a@b.example")).statusCode).toBe(404);
  });

  it("requires the service token on service routes", async () => {
    await createAccount(t, maria);
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer wrong-token-0000000000000" },
      { authorization: "Basic abc" },
    ];
    for (const headers of attempts) {
      const response = await get(`/api/v1/accounts/${maria.address}`, headers);
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe("ERR_UNAUTHORIZED");
    }
    expect((await post(`/api/v1/accounts/${maria.address}/lock`, { reason: "admin" })).statusCode).toBe(401);
    expect((await account()).status).toBe("active");
  });

  it("locks an account and reports the lock; 404 for an unknown address", async () => {
    await createAccount(t, maria);
    const locked = await post(
      `/api/v1/accounts/${maria.address}/lock`,
      { reason: "compromise", note: "virus" },
      auth,
    );
    expect(locked.statusCode).toBe(200);
    expect(locked.json().status).toBe("locked");
    expect((await account()).lock).toEqual({
      reason: "compromise",
      since: new Date(t.clock.now()).toISOString(),
    });
    expect(
      (await post("/api/v1/accounts/ghost@x.example/lock", { reason: "admin" }, auth)).json().error.code,
    ).toBe("ERR_ACCOUNT_NOT_FOUND");
    expect(
      (await post(`/api/v1/accounts/${maria.address}/lock`, { reason: "because" }, auth)).statusCode,
    ).toBe(400);
  });

  it("turns malware and spam-burst events into compromise locks", async () => {
    await createAccount(t, maria);
    const event = await post(
      "/api/v1/events",
      { type: "malware_detected", address: maria.address, ip: "203.0.113.9" },
      auth,
    );
    expect(event.statusCode).toBe(202);
    expect((await account()).lock.reason).toBe("compromise");
    await createAccount(t, { address: "spammed@x.example" });
    await post("/api/v1/events", { type: "spam_burst", address: "spammed@x.example" }, auth);
    expect((await get("/api/v1/accounts/spammed@x.example")).json().lock.reason).toBe("compromise");
    expect(
      (await post("/api/v1/events", { type: "malware_detected", address: "ghost@x.example" }, auth))
        .statusCode,
    ).toBe(202);
    expect((await post("/api/v1/events", { type: "bogus", address: maria.address }, auth)).statusCode).toBe(
      400,
    );
  });

  it("returns the audit log oldest first", async () => {
    await createAccount(t, maria);
    t.clock.advance(1000);
    await post(`/api/v1/accounts/${maria.address}/lock`, { reason: "admin" }, auth);
    t.clock.advance(1000);
    await signin("wrong password");
    const events = (await get(`/api/v1/accounts/${maria.address}/audit`)).json().events;
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      "account.created",
      "account.locked",
      "signin.failed",
    ]);
    expect(events[1]).toMatchObject({ actor: "service", detail: { reason: "admin" } });
    expect(Date.parse(events[0].at)).toBeLessThan(Date.parse(events[2].at));
    expect(JSON.stringify(events)).not.toContain("wrong password");
  });
});

describe("sign-in and locks", () => {
  beforeEach(async () => {
    await createAccount(t, maria);
  });

  it("gives one answer to a wrong password whatever the account's state", async () => {
    const unknown = await post("/api/v1/signin", { address: "nobody@x.example", password: "whatever" });
    const wrong = await signin("whatever");
    await post(`/api/v1/accounts/${maria.address}/lock`, { reason: "compromise" }, auth);
    const lockedWrong = await signin("whatever");
    for (const response of [unknown, wrong, lockedWrong]) {
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({
        error: { code: "ERR_INVALID_CREDENTIALS", message: expect.any(String) },
      });
    }
    const lockedRight = await signin(STRONG_PASSWORD);
    expect(lockedRight.statusCode).toBe(423);
    expect(lockedRight.json().error).toMatchObject({
      code: "ERR_ACCOUNT_LOCKED",
      recoverUrl: expect.stringContaining("/recover"),
    });
  });

  it("issues a session and a device id that work until they are revoked", async () => {
    const signedIn = await signin(STRONG_PASSWORD);
    expect(signedIn.headers["cache-control"]).toBe("no-store");
    const { session, deviceId } = signedIn.json();
    expect(deviceId).toMatch(/^d1\.[\w-]{22}\.[\w-]{43}$/);
    const ok = await get("/api/v1/session", { authorization: `Bearer ${session}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().address).toBe(maria.address);
    expect((await get("/api/v1/session", { authorization: "Bearer nope" })).statusCode).toBe(401);
    expect((await get("/api/v1/session", {})).statusCode).toBe(401);
    // The device sent back keeps its id.
    expect((await signin(STRONG_PASSWORD, deviceId)).json().deviceId).toBe(deviceId);
  });

  it("ends every session when the account is locked as compromised, not for a brute_force lock", async () => {
    const { session } = (await signin(STRONG_PASSWORD)).json();
    const check = () => get("/api/v1/session", { authorization: `Bearer ${session}` });
    await post(`/api/v1/accounts/${maria.address}/lock`, { reason: "brute_force" }, auth);
    expect((await check()).statusCode).toBe(200);
    await post("/api/v1/events", { type: "malware_detected", address: maria.address }, auth);
    expect((await check()).statusCode).toBe(401);
  });

  it("locks after 10 failures from unknown devices, lets a known device in, and expires by itself", async () => {
    const homeLaptop = (await signin(STRONG_PASSWORD)).json().deviceId;
    for (let i = 0; i < 9; i++) expect((await signin(`guess-${i}`)).statusCode).toBe(401);
    expect((await account()).status).toBe("active");
    expect((await signin("guess-9")).statusCode).toBe(401);
    const locked = await account();
    expect(locked.lock).toMatchObject({
      reason: "brute_force",
      until: new Date(t.clock.now() + MINUTE).toISOString(),
    });

    // During the throttle a stranger gets one answer, right password or not.
    expect((await signin("still wrong")).statusCode).toBe(423);
    expect((await signin(STRONG_PASSWORD)).statusCode).toBe(423);
    expect((await signin(STRONG_PASSWORD, homeLaptop)).statusCode).toBe(200);

    t.clock.advance(MINUTE);
    expect((await account()).status).toBe("active");
    expect((await signin(STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it("counts every failure when they arrive at the same time", async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => signin(`parallel-${i}`, `bot-${i}`)));
    expect((await account()).lock?.reason).toBe("brute_force");
  });

  it("does not count failures from a known device on the address's throttle", async () => {
    const homeLaptop = (await signin(STRONG_PASSWORD)).json().deviceId;
    for (let i = 0; i < 15; i++) expect((await signin(`typo-${i}`, homeLaptop)).statusCode).toBe(401);
    expect((await account()).status).toBe("active");
  });

  it("grows the lock from 1 minute, doubling, to 15 minutes at most", async () => {
    const lockLengths: number[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 10; i++) await signin(`guess-${i}`);
      const { lock } = await account();
      lockLengths.push((Date.parse(lock.until) - t.clock.now()) / MINUTE);
      t.clock.advance(Date.parse(lock.until) - t.clock.now());
    }
    expect(lockLengths).toEqual([1, 2, 4, 8, 15, 15]);
  });

  it("counts signin_failed events from integrations, and never counts recovery attempts", async () => {
    for (let i = 0; i < 10; i++) {
      const id = (await post("/api/v1/recovery", { address: maria.address })).json().recoveryId;
      await post(`/api/v1/recovery/${id}/code`, { code: "000000" });
    }
    expect((await account()).status).toBe("active");
    for (let i = 0; i < 10; i++)
      await post(
        "/api/v1/events",
        { type: "signin_failed", address: maria.address, deviceId: "imap-client" },
        auth,
      );
    expect((await account()).lock.reason).toBe("brute_force");
  });

  it("never replaces a compromise lock with a temporary one", async () => {
    await post(`/api/v1/accounts/${maria.address}/lock`, { reason: "compromise" }, auth);
    for (let i = 0; i < 10; i++) await signin(`guess-${i}`);
    t.clock.advance(60 * MINUTE);
    expect((await account()).lock.reason).toBe("compromise");
    expect((await signin(STRONG_PASSWORD)).statusCode).toBe(423);
  });
});

describe("platform routes", () => {
  it("moves the manual clock with the service token only", async () => {
    const before = t.clock.now();
    const moved = await post("/api/v1/dev/clock", { advanceMs: 5000 }, auth);
    expect(moved.statusCode).toBe(200);
    expect(Date.parse(moved.json().now)).toBe(before + 5000);
    expect((await post("/api/v1/dev/clock", { advanceMs: 5000 })).statusCode).toBe(401);
    expect((await post("/api/v1/dev/clock", { advanceMs: -5 }, auth)).statusCode).toBe(400);
  });

  it("refuses the clock route when the clock is the system's", async () => {
    const system = await testApp({ SESAME_CLOCK: "system" });
    try {
      const response = await system.server.inject({
        method: "POST",
        url: "/api/v1/dev/clock",
        headers: auth,
        payload: { advanceMs: 1 },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe("ERR_CLOCK_NOT_MANUAL");
    } finally {
      await system.close();
    }
  });

  it("serves health, readiness, the OpenAPI document and strict security headers", async () => {
    expect((await get("/healthz", {})).json()).toEqual({ status: "ok" });
    expect((await get("/readyz", {})).statusCode).toBe(200);
    const docs = (await get("/api/docs", {})).json();
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/recovery",
        "/api/v1/recovery/{id}/code",
        "/api/v1/signin",
        "/api/v1/accounts/{address}",
      ]),
    );
    const home = await get("/", {});
    expect(home.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(home.headers["content-security-policy"]).not.toContain("unsafe-inline");
    // Metrics have their own listener (src/platform/metrics.test.ts), never the public port.
    expect((await get("/metrics", {})).statusCode).toBe(404);
    const missing = await get("/api/v1/nothing-here", {});
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("ERR_NOT_FOUND");
  });

  it("localises error messages from the request", async () => {
    const fr = await t.server.inject({
      method: "POST",
      url: "/api/v1/signin",
      headers: { "accept-language": "fr-BE,fr;q=0.9" },
      payload: { address: "a@b.example", password: "x" },
    });
    const nl = await t.server.inject({
      method: "POST",
      url: "/api/v1/signin?lang=nl",
      payload: { address: "a@b.example", password: "x" },
    });
    const de = await t.server.inject({
      method: "POST",
      url: "/api/v1/signin",
      headers: { "accept-language": "de" },
      payload: { address: "a@b.example", password: "x" },
    });
    expect(fr.json().error.message).toMatch(/mot de passe/);
    expect(nl.json().error.message).toMatch(/wachtwoord/);
    expect(de.json().error.message).toMatch(/Passwort/);
  });
});
