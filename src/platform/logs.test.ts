import { afterEach, describe, expect, it } from "vitest";
import { freshDatabase, logSink, maria, NEW_PASSWORD, STRONG_PASSWORD } from "../../test/helpers.js";
import { loadConfig } from "../config.js";
import { buildApp } from "../server.js";
import { ManualClock } from "./clock.js";

let close: (() => Promise<void>) | undefined;
afterEach(() => close?.());

describe("logs", () => {
  it("never hold a password, code, recovery id, session, token or cookie, even at trace level", async () => {
    const sink = logSink();
    const database = await freshDatabase();
    const config = loadConfig({
      SESAME_SECRET: "log-test-secret-0123456789-0123456789",
      SESAME_API_TOKEN: "log-test-service-token-0123",
      SESAME_CLOCK: "manual",
      DATABASE_URL: "sqlite::memory:",
      LOG_LEVEL: "trace",
    });
    const { server, dispatcher } = await buildApp({
      config,
      database,
      clock: new ManualClock(),
      logger: sink.stream,
    });
    close = async () => {
      await server.close();
      await database.drop();
    };
    const token = { authorization: "Bearer log-test-service-token-0123" };
    await server.inject({
      method: "POST",
      url: "/api/v1/accounts",
      headers: token,
      payload: { ...maria, password: STRONG_PASSWORD },
    });
    const session = (
      await server.inject({
        method: "POST",
        url: "/api/v1/signin",
        payload: { address: maria.address, password: STRONG_PASSWORD },
      })
    ).json().session as string;
    await server.inject({ url: "/api/v1/session", headers: { authorization: `Bearer ${session}` } });
    const id = (
      await server.inject({ method: "POST", url: "/api/v1/recovery", payload: { address: maria.address } })
    ).json().recoveryId;
    await server.inject({
      method: "POST",
      url: `/api/v1/recovery/${id}/channel`,
      payload: { kind: "email", value: "maria-rosa@gmail.example" },
    });
    await dispatcher.drain();
    const mailbox = (await server.inject({ url: "/dev/mailbox" })).body;
    // Maria's mails are in French: "Votre code de récupération est 123456".
    const code = /récupération est (\d{6})/.exec(mailbox)![1]!;
    const linkToken = /link\?token=([\w-]+)/.exec(mailbox)![1]!;
    // The mail's link carries a token in its query string; opening it must not log it.
    await server.inject({
      url: `/recover/link?token=${linkToken}&lang=fr`,
      headers: { cookie: "_csrf=cookie-secret-value" },
    });
    const passwordToken = (
      await server.inject({ method: "POST", url: `/api/v1/recovery/${id}/code`, payload: { code } })
    ).json().passwordToken as string;
    await server.inject({
      method: "POST",
      url: `/api/v1/recovery/${id}/password`,
      payload: { password: NEW_PASSWORD, passwordToken },
    });

    expect(sink.text()).toContain("incoming request");
    // Each request's lines carry its own id: its first line and its last share one, no two requests do.
    const entries = sink
      .text()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg?: string; reqId?: string });
    const idsOf = (msg: string) => entries.filter((entry) => entry.msg === msg).map((entry) => entry.reqId);
    const incoming = idsOf("incoming request");
    expect(incoming.length).toBeGreaterThan(5);
    expect(new Set(incoming).size).toBe(incoming.length);
    expect(incoming.every((id) => typeof id === "string")).toBe(true);
    expect(idsOf("request completed")).toEqual(incoming);
    // Route patterns, never paths: a recovery id in the log would be a handle on someone's recovery.
    expect(sink.text()).toContain("/api/v1/recovery/:id/code");
    expect(sink.text()).toContain("/recover/link");
    for (const secret of [
      id,
      STRONG_PASSWORD,
      NEW_PASSWORD,
      code,
      linkToken,
      passwordToken,
      "log-test-service-token-0123",
      "cookie-secret-value",
      session,
    ]) {
      expect(sink.text()).not.toContain(secret);
    }
  });
});
