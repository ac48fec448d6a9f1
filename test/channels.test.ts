import { afterEach, describe, expect, it } from "vitest";
import { createLockedMaria, type TestApp, testApp } from "./helpers.js";

/**
 * A deployment delivers codes only through channels it really has: the development mailbox exists
 * only when nothing at all is configured (and never in production); otherwise a missing transport
 * turns its channel off, the same answer for every account.
 */
let t: TestApp;
afterEach(() => t?.close());

const startFor = async (address: string) =>
  (await t.server.inject({ method: "POST", url: "/api/v1/recovery", payload: { address } })).json()
    .recoveryId as string;
const choose = (id: string, kind: "email" | "phone", value: string, lang = "en") =>
  t.server.inject({
    method: "POST",
    url: `/api/v1/recovery/${id}/channel?lang=${lang}`,
    payload: { kind, value },
  });

describe("channels", () => {
  it("with SMTP but no SMS gateway: no dev mailbox, phone recovery refused alike for every account", async () => {
    t = await testApp({ SMTP_URL: "smtp://127.0.0.1:1" }, { transports: "configured" });
    await createLockedMaria(t);
    const ready = await t.server.inject({ url: "/readyz" });
    expect(ready.json()).toEqual({ status: "ready", channels: { email: true, sms: false } });
    expect((await t.server.inject({ url: "/dev/mailbox" })).statusCode).toBe(404);

    const known = await choose(
      await startFor("maria-rosa@hotmail.example"),
      "phone",
      "+32 470 12 34 56",
      "fr",
    );
    const unknown = await choose(await startFor("nobody@hotmail.example"), "phone", "+32 470 12 34 56", "fr");
    for (const answer of [known, unknown]) {
      expect(answer.statusCode).toBe(400);
      expect(answer.json().error).toEqual({
        code: "ERR_CHANNEL_UNAVAILABLE",
        message: "Les SMS ne sont pas disponibles ici ; indiquez une adresse e-mail de secours.",
      });
    }
    expect(known.body).toBe(unknown.body);
    const queued = await t.database.db.selectFrom("outbox").select("channel").execute();
    expect(queued).toEqual([]);
    // Email still works.
    expect(
      (await choose(await startFor("maria-rosa@hotmail.example"), "email", "maria-rosa@gmail.example"))
        .statusCode,
    ).toBe(202);
  });

  it("with an SMS gateway but no SMTP: recovery by email is refused instead", async () => {
    t = await testApp({ SMS_GATEWAY_URL: "http://127.0.0.1:1/sms" }, { transports: "configured" });
    await createLockedMaria(t);
    expect((await t.server.inject({ url: "/readyz" })).json().channels).toEqual({ email: false, sms: true });
    const answer = await choose(
      await startFor("maria-rosa@hotmail.example"),
      "email",
      "maria-rosa@gmail.example",
    );
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error.code).toBe("ERR_EMAIL_UNAVAILABLE");
    expect((await t.server.inject({ url: "/dev/mailbox" })).statusCode).toBe(404);
  });

  it("with nothing configured (development): both channels go to the dev mailbox", async () => {
    t = await testApp({}, { transports: "configured" });
    expect((await t.server.inject({ url: "/readyz" })).json().channels).toEqual({ email: true, sms: true });
    expect((await t.server.inject({ url: "/dev/mailbox" })).statusCode).toBe(200);
  });

  it("in production with nothing configured: no dev mailbox, and no channel at all", async () => {
    t = await testApp({ NODE_ENV: "production", SESAME_CLOCK: "system" }, { transports: "configured" });
    expect((await t.server.inject({ url: "/readyz" })).json().channels).toEqual({ email: false, sms: false });
    expect((await t.server.inject({ url: "/dev/mailbox" })).statusCode).toBe(404);
  });
});
