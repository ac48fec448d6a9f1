import { afterEach, describe, expect, it } from "vitest";
import { auth, createAccount, maria, type TestApp, testApp } from "../../test/helpers.js";

let t: TestApp | undefined;
afterEach(() => t?.close());

const post = (url: string, payload: object, ip = "198.51.100.7") =>
  t!.server.inject({ method: "POST", url, payload, remoteAddress: ip });

describe("rate limits", () => {
  it("limits each public step per IP, per step, and SESAME_RATE_LIMIT_PER_IP=0 turns it off", async () => {
    t = await testApp({ SESAME_RATE_LIMIT_PER_IP: "3" });
    for (let i = 0; i < 3; i++)
      expect((await post("/api/v1/recovery", { address: `p${i}@x.example` })).statusCode).toBe(201);
    const limited = await post("/api/v1/recovery", { address: "p9@x.example" });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe("ERR_RATE_LIMITED");
    // Another address, another step: not limited by this one.
    expect((await post("/api/v1/recovery", { address: "p9@x.example" }, "198.51.100.8")).statusCode).toBe(
      201,
    );
    expect((await post("/api/v1/signin", { address: "p9@x.example", password: "x" })).statusCode).toBe(401);
    await t.close();

    t = await testApp({ SESAME_RATE_LIMIT_PER_IP: "0" });
    for (let i = 0; i < 20; i++)
      expect((await post("/api/v1/recovery", { address: `p${i}@x.example` })).statusCode).toBe(201);
  });

  it("limits recoveries started per address and source per hour, known or not", async () => {
    t = await testApp({ SESAME_RECOVERIES_PER_ACCOUNT_PER_HOUR: "2" });
    await createAccount(t, maria);
    for (const address of [maria.address, "ghost@x.example"]) {
      expect((await post("/api/v1/recovery", { address })).statusCode).toBe(201);
      t.clock.advance(10 * 60 * 1000);
      expect((await post("/api/v1/recovery", { address })).statusCode).toBe(201);
      const third = await post("/api/v1/recovery", { address });
      expect(third.statusCode).toBe(429);
      expect(third.json().error.code).toBe("ERR_TOO_MANY_STARTS");
      // Retry-After is when the oldest counted start leaves the hour, and the message says it.
      expect(third.headers["retry-after"]).toBe(String(50 * 60));
      expect(third.json().error.message).toContain("50 minutes");
    }
    t.clock.advance(60 * 60 * 1000 + 1);
    expect((await post("/api/v1/recovery", { address: maria.address })).statusCode).toBe(201);
    const status = await t.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
    expect(status.json().status).toBe("active");
  });
});

describe("development mailbox", () => {
  it("shows captured messages with their links when no SMTP server is configured", async () => {
    t = await testApp({}, { transports: "configured" });
    await createAccount(t, maria);
    const id = (await post("/api/v1/recovery", { address: maria.address })).json().recoveryId;
    await post(`/api/v1/recovery/${id}/channel`, { kind: "email", value: "maria-rosa@gmail.example" });
    await t.app.dispatcher.drain();
    const page = await t.server.inject({ url: "/dev/mailbox?lang=fr" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("maria-rosa@gmail.example");
    // Every page points a newcomer to where the code went.
    expect((await t.server.inject({ url: "/recover?lang=fr" })).body).toContain(
      'href="/dev/mailbox?lang=fr"',
    );
    expect(page.body).toMatch(/<a href="http:\/\/sesame.test\/recover\/link\?token=[\w-]{43}&amp;lang=fr">/);
  });

  it("still opens once a message was voided before it left (its body is gone)", async () => {
    t = await testApp({}, { transports: "configured" });
    await createAccount(t, maria);
    const id = (await post("/api/v1/recovery", { address: maria.address })).json().recoveryId;
    // Two codes before the outbox runs: the first one's message is voided, never sent, body forgotten.
    for (let i = 0; i < 2; i++)
      await post(`/api/v1/recovery/${id}/channel`, { kind: "email", value: "maria-rosa@gmail.example" });
    await t.app.dispatcher.drain();
    const page = await t.server.inject({ url: "/dev/mailbox?lang=fr" });
    expect(page.statusCode).toBe(200);
    const tokens = new Set([...page.body.matchAll(/recover\/link\?token=([\w-]+)/g)].map((m) => m[1]));
    expect(tokens.size).toBe(1);
  });

  it("does not exist in production", async () => {
    t = await testApp({ NODE_ENV: "production", SESAME_CLOCK: "system" }, { transports: "configured" });
    expect((await t.server.inject({ url: "/dev/mailbox" })).statusCode).toBe(404);
    expect((await t.server.inject({ url: "/recover" })).body).not.toContain("/dev/mailbox");
  });
});
