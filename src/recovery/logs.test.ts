import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLockedMaria, maria, RecordingTransport, type TestApp, testApp } from "../../test/helpers.js";
import { buildApp } from "../server.js";

let t: TestApp;
afterEach(() => t.close());

/** A node of the app whose log lines are kept, to read what a rejected form leaves there. */
async function loggingNode() {
  const lines: Array<{ level: number; msg: string; err?: { stack?: string } }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = await buildApp({
    config: { ...t.config, logLevel: "info" },
    database: { ...t.database, close: async () => {} },
    clock: t.clock,
    logger: stream,
    transports: { email: new RecordingTransport(), sms: new RecordingTransport() },
  });
  await app.server.ready();
  return { server: app.server, lines };
}

describe("recovery pages in the server log", () => {
  it("send one answer per rejected form, and log an unknown recovery below warning", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const node = await loggingNode();
    const page = await node.server.inject({ url: "/recover?lang=fr" });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const cookie = String(page.headers["set-cookie"]).split(";")[0]!;
    const form = (url: string, fields: Record<string, string>) =>
      node.server.inject({
        method: "POST",
        url,
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ _csrf: csrf, lang: "fr", ...fields }).toString(),
      });
    const started = await form("/recover", { address: maria.address });
    const id = (started.headers.location as string).split("/")[2]!;
    expect((await form(`/recover/${id}/channel`, { value: "" })).statusCode).toBe(400);
    expect((await form(`/recover/${id}/code`, { code: "123456" })).statusCode).toBe(409);
    expect((await form("/recover/rc_unknownunknownunknown/code", { code: "123456" })).statusCode).toBe(404);
    expect(
      (await node.server.inject({ url: "/recover/rc_unknownunknownunknown/code?lang=fr" })).statusCode,
    ).toBe(404);
    await node.server.close();
    expect(node.lines.filter((l) => /already sent/i.test(l.msg))).toEqual([]);
    // Expected refusals are not errors nor warnings.
    expect(node.lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
  });
});
