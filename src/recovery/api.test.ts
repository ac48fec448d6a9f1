import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  auth,
  createLockedMaria,
  maria,
  NEW_PASSWORD,
  STRONG_PASSWORD,
  type TestApp,
  testApp,
} from "../../test/helpers.js";
import { auditKey, verifyAuditChain } from "../platform/audit.js";
import { HOUR, MINUTE } from "../platform/clock.js";

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
  await createLockedMaria(t);
});
afterEach(() => t.close());

const post = (url: string, payload: unknown) =>
  t.server.inject({ method: "POST", url, payload: payload as object });
const start = async (address = maria.address) => {
  const response = await post("/api/v1/recovery", { address });
  expect(response.statusCode).toBe(201);
  return response.json().recoveryId as string;
};
const chooseEmail = (id: string, value = "maria-rosa@gmail.example") =>
  post(`/api/v1/recovery/${id}/channel`, { kind: "email", value });
/** Confirms the code and returns the one-time password token it hands out. */
const confirmCode = async (id: string, code: string | null) => {
  const response = await post(`/api/v1/recovery/${id}/code`, { code });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().passwordToken as string;
};
const setPassword = (id: string, passwordToken: string, password = NEW_PASSWORD) =>
  post(`/api/v1/recovery/${id}/password`, { password, passwordToken });
const accountStatus = async () =>
  (await t.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth })).json();
const audit = async () =>
  (await t.server.inject({ url: `/api/v1/accounts/${maria.address}/audit`, headers: auth })).json()
    .events as Array<{ type: string; detail: Record<string, unknown> }>;

describe("recovery journey", () => {
  it("recovers a compromise-locked account through a verified backup address", async () => {
    const signin = await post("/api/v1/signin", { address: maria.address, password: STRONG_PASSWORD });
    expect(signin.statusCode).toBe(423);

    const id = await start();
    const channel = await chooseEmail(id);
    expect(channel.statusCode).toBe(202);
    expect(channel.json()).toEqual({ next: "enter_code" });

    const code = await t.lastCodeFor("maria-rosa@gmail.example");
    expect(code).toMatch(/^\d{6}$/);
    const mail = (await t.messages()).find((m) => m.recipient === "maria-rosa@gmail.example")!;
    expect(mail.body).toMatch(/http:\/\/sesame\.test\/recover\/link\?token=[\w-]{43}&lang=fr/);
    // The link carries neither the code nor the recovery id.
    expect(mail.body).not.toContain(id);
    expect(mail.body.split("\n").find((line) => line.includes("/recover/"))).not.toContain(code);
    expect(mail.subject).toMatch(/récupération/i);

    const confirm = await post(`/api/v1/recovery/${id}/code`, { code });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.json()).toEqual({
      next: "set_password",
      passwordToken: expect.stringMatching(/^[\w-]{43}$/),
    });

    const done = await setPassword(id, confirm.json().passwordToken);
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ next: "done" });

    expect((await accountStatus()).status).toBe("active");
    expect(
      (await post("/api/v1/signin", { address: maria.address, password: STRONG_PASSWORD })).statusCode,
    ).toBe(401);
    expect(
      (await post("/api/v1/signin", { address: maria.address, password: NEW_PASSWORD })).statusCode,
    ).toBe(200);

    const types = (await audit()).map((e) => e.type);
    for (const expected of [
      "account.locked",
      "recovery.started",
      "recovery.code_sent",
      "recovery.code_verified",
      "account.password_reset",
      "sessions.revoked",
      "account.unlocked",
      "recovery.completed",
      "recovery.notified",
    ]) {
      expect(types).toContain(expected);
    }
    const { id: accountId } = await accountStatus();
    expect(
      await verifyAuditChain(t.database.db, `account:${accountId}`, auditKey(t.config.secret)),
    ).toBeNull();
  });

  it("recovers by SMS too, with a code that lives 10 minutes", async () => {
    const id = await start();
    expect(
      (await post(`/api/v1/recovery/${id}/channel`, { kind: "phone", value: "0470 12 34 56" })).statusCode,
    ).toBe(202);
    const code = await t.lastCodeFor("+32470123456");
    expect(code).toMatch(/^\d{6}$/);
    t.clock.advance(10 * MINUTE + 1);
    const late = await post(`/api/v1/recovery/${id}/code`, { code });
    expect(late.statusCode).toBe(410);
    expect(late.json().error.code).toBe("ERR_CODE_EXPIRED");
  });

  it("keeps an email code valid 24 hours and no longer", async () => {
    const id = await start();
    await chooseEmail(id);
    const code = await t.lastCodeFor("maria-rosa@gmail.example");
    t.clock.advance(24 * HOUR - 1000);
    expect((await post(`/api/v1/recovery/${id}/code`, { code })).statusCode).toBe(200);

    const second = await start();
    await chooseEmail(second);
    const code2 = await t.lastCodeFor("maria-rosa@gmail.example");
    t.clock.advance(24 * HOUR);
    const expired = await post(`/api/v1/recovery/${second}/code`, { code: code2 });
    expect(expired.statusCode).toBe(410);
    expect(expired.json().error.code).toBe("ERR_CODE_EXPIRED");
  });

  it("keeps no code nor link token in clear anywhere in the database", async () => {
    const id = await start();
    await chooseEmail(id);
    const code = (await t.lastCodeFor("maria-rosa@gmail.example"))!;
    const mail = (await t.messages()).find((m) => m.recipient === "maria-rosa@gmail.example")!;
    const linkToken = /token=([\w-]{43})/.exec(mail.body)![1]!;
    const tables = ["recoveries", "recovery_codes", "outbox", "audit_log", "accounts"] as const;
    for (const table of tables) {
      const rows = await t.database.db.selectFrom(table).selectAll().execute();
      expect(rows.length, table).toBeGreaterThan(0);
      expect(JSON.stringify(rows), table).not.toContain(code);
      expect(JSON.stringify(rows), table).not.toContain(linkToken);
    }
  });

  it("never sends a code to the account's own address nor to an unverified alternate", async () => {
    const id = await start();
    // The locked address itself: the person typed both, so saying so reveals nothing.
    const own = await chooseEmail(id, maria.address.toUpperCase());
    expect(own.statusCode).toBe(400);
    expect(own.json().error.code).toBe("ERR_BACKUP_IS_ACCOUNT");
    for (const value of ["old-address@yahoo.example", "stranger@evil.example"]) {
      const response = await chooseEmail(id, value);
      expect(response.statusCode).toBe(202);
      expect(response.json()).toEqual({ next: "enter_code" });
    }
    expect(await t.messages()).toEqual([]);
    const refused = (await audit()).filter((e) => e.type === "recovery.code_refused");
    expect(refused).toHaveLength(2);
  });

  it("allows 5 tries per code, then refuses even the right code", async () => {
    const id = await start();
    await chooseEmail(id);
    const code = (await t.lastCodeFor("maria-rosa@gmail.example"))!;
    const wrong = code === "000000" ? "111111" : "000000";
    for (let left = 4; left >= 0; left--) {
      const response = await post(`/api/v1/recovery/${id}/code`, { code: wrong });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: "ERR_CODE_INVALID", attemptsLeft: left });
    }
    const blocked = await post(`/api/v1/recovery/${id}/code`, { code });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe("ERR_TOO_MANY_ATTEMPTS");
    // A new code opens new tries, and the account was never locked by any of this.
    await chooseEmail(id);
    const fresh = await t.lastCodeFor("maria-rosa@gmail.example");
    expect((await post(`/api/v1/recovery/${id}/code`, { code: fresh })).statusCode).toBe(200);
  });

  it("voids older codes when a new one is sent, across recoveries of the account", async () => {
    const first = await start();
    await chooseEmail(first);
    const oldCode = (await t.lastCodeFor("maria-rosa@gmail.example"))!;
    const second = await start();
    await chooseEmail(second);
    const newCode = (await t.lastCodeFor("maria-rosa@gmail.example"))!;
    // The older mail's code says a newer one was sent, and uses no try.
    const stale = await post(`/api/v1/recovery/${first}/code`, { code: oldCode });
    expect(stale.statusCode).toBe(410);
    expect(stale.json().error.code).toBe("ERR_CODE_SUPERSEDED");
    expect((await post(`/api/v1/recovery/${second}/code`, { code: newCode })).statusCode).toBe(200);
  });

  it("voids the recovery's real code when a decoy is asked next, so only the newest code counts", async () => {
    const id = await start();
    await chooseEmail(id);
    const realCode = (await t.lastCodeFor("maria-rosa@gmail.example"))!;
    // A destination that is not hers: a decoy code row, which must still void the real one.
    expect((await chooseEmail(id, "someone-else@example.org")).statusCode).toBe(202);
    const live = await t.database.db
      .selectFrom("recovery_codes")
      .select(["code_hash"])
      .where("recovery_id", "=", id)
      .where("voided_at", "is", null)
      .execute();
    expect(live).toEqual([{ code_hash: null }]);
    const stale = await post(`/api/v1/recovery/${id}/code`, { code: realCode });
    expect(stale.json().error.code).toBe("ERR_CODE_SUPERSEDED");
  });

  it("caps codes at 5 per account per hour without locking the account", async () => {
    const id = await start();
    for (let i = 0; i < 5; i++) expect((await chooseEmail(id)).statusCode).toBe(202);
    const capped = await chooseEmail(id);
    expect(capped.statusCode).toBe(429);
    expect(capped.json().error.code).toBe("ERR_TOO_MANY_CODES");
    expect(Number(capped.headers["retry-after"])).toBeGreaterThan(0);
    // Each new code voided the one before: only the live one goes out.
    expect((await t.messages()).filter((m) => m.recipient === "maria-rosa@gmail.example")).toHaveLength(1);
    expect((await accountStatus()).lock.reason).toBe("compromise");
    t.clock.advance(HOUR + 1);
    expect((await chooseEmail(id)).statusCode).toBe(202);
  });

  it("holds the cap and keeps one live code under simultaneous requests", async () => {
    const id = await start();
    const answers = await Promise.all(Array.from({ length: 8 }, () => chooseEmail(id)));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    const live = await t.database.db
      .selectFrom("recovery_codes")
      .select("id")
      .where("voided_at", "is", null)
      .execute();
    expect(live).toHaveLength(1);
  });

  it("gives the same answers for an unknown address, and never sends anything", async () => {
    const known = await post("/api/v1/recovery", { address: maria.address });
    const unknown = await post("/api/v1/recovery", { address: "nobody@hotmail.example" });
    expect(unknown.statusCode).toBe(known.statusCode);
    expect(Object.keys(unknown.json()).sort()).toEqual(Object.keys(known.json()).sort());
    const id = unknown.json().recoveryId;
    const channel = await chooseEmail(id);
    expect(channel.statusCode).toBe(202);
    expect(channel.json()).toEqual({ next: "enter_code" });
    const code = await post(`/api/v1/recovery/${id}/code`, { code: "123456" });
    expect(code.statusCode).toBe(400);
    expect(code.json().error).toMatchObject({ code: "ERR_CODE_INVALID", attemptsLeft: 4 });
    const noAccess = await post(`/api/v1/recovery/${id}/no-access`, {
      contactEmail: "someone@gmail.example",
    });
    expect(noAccess.statusCode).toBe(201);
    expect((await t.messages()).map((m) => m.recipient)).toEqual(["someone@gmail.example"]);
    // Probing an unknown address leaves the same trail as a known one, in a chain of its own.
    const trail = await t.database.db
      .selectFrom("audit_log")
      .select(["stream", "type", "account_id"])
      .where("stream", "like", "address:%")
      .orderBy("seq")
      .execute();
    expect(trail.map((e) => e.type)).toEqual([
      "recovery.started",
      "recovery.code_refused",
      "recovery.code_failed",
      "case.opened",
    ]);
    expect(new Set(trail.map((e) => e.stream)).size).toBe(1);
    expect(trail[0]!.stream).not.toContain("nobody");
  });

  it("after the new password: sessions revoked, other codes void, everyone told", async () => {
    await t.server.inject({
      method: "POST",
      url: "/api/v1/accounts",
      headers: auth,
      payload: {
        address: "jan@telenet.example",
        password: STRONG_PASSWORD,
        locale: "nl",
        alternates: [
          { kind: "phone", value: "+32495654321", verified: true },
          { kind: "email", value: "jan@gmail.example", verified: true },
        ],
      },
    });
    const session = (
      await post("/api/v1/signin", {
        address: "jan@telenet.example",
        password: STRONG_PASSWORD,
        deviceId: "laptop",
      })
    ).json().session;
    const sessionCheck = () =>
      t.server.inject({ url: "/api/v1/session", headers: { authorization: `Bearer ${session}` } });
    expect((await sessionCheck()).statusCode).toBe(200);

    const other = await start("jan@telenet.example");
    const id = await start("jan@telenet.example");
    await chooseEmail(id, "jan@gmail.example");
    const token = await confirmCode(id, await t.lastCodeFor("jan@gmail.example"));
    expect((await setPassword(id, token)).statusCode).toBe(200);

    const revoked = await sessionCheck();
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.code).toBe("ERR_SESSION_INVALID");
    // The other recovery of the account has ended with this one.
    expect(
      (await post(`/api/v1/recovery/${other}/channel`, { kind: "email", value: "jan@gmail.example" }))
        .statusCode,
    ).toBe(409);

    const notices = (await t.messages()).filter((m) => !/\b\d{6}\b/.test(m.body));
    expect(notices.map((m) => m.recipient).sort()).toEqual([
      "+32495654321",
      "jan@gmail.example",
      "jan@telenet.example",
    ]);
    expect(notices.find((m) => m.recipient === "jan@telenet.example")!.body).toMatch(/herstel|hersteld/i);
  });

  it("refuses weak passwords and the current one, and changes nothing", async () => {
    const id = await start();
    await chooseEmail(id);
    const token = await confirmCode(id, await t.lastCodeFor("maria-rosa@gmail.example"));
    const weak = await setPassword(id, token, "password1");
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.code).toBe("ERR_PASSWORD_WEAK");
    const personal = await setPassword(id, token, "maria-rosa-hotmail");
    expect(personal.json().error.code).toBe("ERR_PASSWORD_WEAK");
    const reused = await setPassword(id, token, STRONG_PASSWORD);
    expect(reused.statusCode).toBe(400);
    expect(reused.json().error.code).toBe("ERR_PASSWORD_REUSED");
    expect((await accountStatus()).status).toBe("locked");
    expect((await setPassword(id, token)).statusCode).toBe(200);
    // A finished recovery cannot be replayed.
    expect((await setPassword(id, token, `${NEW_PASSWORD}!`)).statusCode).toBe(409);
  });

  it("gives 30 minutes for the new password, then asks for a new code", async () => {
    const id = await start();
    await chooseEmail(id);
    const token = await confirmCode(id, await t.lastCodeFor("maria-rosa@gmail.example"));
    t.clock.advance(30 * MINUTE + 1);
    const late = await setPassword(id, token);
    expect(late.statusCode).toBe(410);
    expect(late.json().error.code).toBe("ERR_RECOVERY_EXPIRED");
    expect((await accountStatus()).status).toBe("locked");
    expect((await chooseEmail(id)).statusCode).toBe(202);
    expect((await setPassword(id, token)).statusCode).toBe(409);
    const fresh = await confirmCode(id, await t.lastCodeFor("maria-rosa@gmail.example"));
    // The token of the earlier confirmation is spent: only the latest one sets the password.
    expect((await setPassword(id, token)).json().error.code).toBe("ERR_PASSWORD_TOKEN");
    expect((await setPassword(id, fresh)).statusCode).toBe(200);
  });

  it("refuses steps out of order with coded errors", async () => {
    const id = await start();
    const early = await post(`/api/v1/recovery/${id}/code`, { code: "123456" });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe("ERR_RECOVERY_STEP");
    expect((await setPassword(id, "not-a-token")).json().error.code).toBe("ERR_RECOVERY_STEP");
    const missing = await post("/api/v1/recovery/rc_doesnotexist/code", { code: "123456" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("ERR_RECOVERY_NOT_FOUND");
  });

  it("refuses a channel for an unknown recovery or a bad value, writing nothing, beside a good request", async () => {
    const id = await start();
    const counts = async () => ({
      codes: (await t.database.db.selectFrom("recovery_codes").select("id").execute()).length,
      outbox: (await t.database.db.selectFrom("outbox").select("id").execute()).length,
      caps: (await t.database.db.selectFrom("cap_counters").select("key").execute()).length,
      audit: (await audit()).length,
    });
    const before = await counts();
    // Sent together, so on SQLite they share one group commit: each refusal is its own.
    const [unknown, empty, invalid, good] = await Promise.all([
      chooseEmail("rc_doesnotexist"),
      chooseEmail(id, "  "),
      chooseEmail(id, "not-an-address"),
      chooseEmail(id),
    ]);
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, "ERR_RECOVERY_NOT_FOUND"]);
    expect([empty.statusCode, empty.json().error.code]).toEqual([400, "ERR_BACKUP_EMPTY"]);
    expect([invalid.statusCode, invalid.json().error.code]).toEqual([400, "ERR_VALIDATION"]);
    expect(good.statusCode).toBe(202);
    // Only the good request wrote: one code, one message, its cap, its audit entry.
    const after = await counts();
    expect(after.codes - before.codes).toBe(1);
    expect(after.outbox - before.outbox).toBe(1);
    expect(after.caps - before.caps).toBe(1);
    expect(after.audit - before.audit).toBe(1);
    expect(await t.lastCodeFor("maria-rosa@gmail.example")).toMatch(/^\d{6}$/);
  });

  it("answers malformed and hostile input with ERR_VALIDATION", async () => {
    const cases: Array<[string, unknown]> = [
      ["/api/v1/recovery", {}],
      ["/api/v1/recovery", { address: "not-an-address" }],
      ["/api/v1/recovery", { address: 42 }],
      ["/api/v1/recovery", { address: `${"a".repeat(300)}@x.example` }],
    ];
    for (const [url, body] of cases) {
      const response = await post(url, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe("ERR_VALIDATION");
    }
    const id = await start();
    for (const body of [{ kind: "fax", value: "1" }, { kind: "email", value: "nope" }, { kind: "email" }]) {
      const response = await post(`/api/v1/recovery/${id}/channel`, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
    const phone = await post(`/api/v1/recovery/${id}/channel`, {
      kind: "phone",
      value: "'; drop table accounts;--",
    });
    expect(phone.json().error.code).toBe("ERR_PHONE_INVALID");
    const notJson = await t.server.inject({
      method: "POST",
      url: "/api/v1/recovery",
      headers: { "content-type": "application/json" },
      payload: "{oops",
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe("ERR_VALIDATION");
    expect(await t.messages()).toEqual([]);
  });
});

describe("I can't reach any of these", () => {
  it("opens one case with a reference and the time of the first attempt", async () => {
    const firstAttempt = t.clock.now();
    const first = await start();
    t.clock.advance(3 * HOUR);
    const id = await start();
    const response = await post(`/api/v1/recovery/${id}/no-access`, {
      contactEmail: "maria.work@company.example",
    });
    expect(response.statusCode).toBe(201);
    const { caseRef, next } = response.json();
    expect(next).toBe("case_opened");
    expect(caseRef).toMatch(/^SES-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/);

    const kase = await t.database.db
      .selectFrom("cases")
      .selectAll()
      .where("ref", "=", caseRef)
      .executeTakeFirstOrThrow();
    expect(Number(kase.first_attempt_at)).toBe(firstAttempt);
    expect(kase.contact_email).toBe("maria.work@company.example");

    // Same problem, same case: from the same recovery, and from another attempt.
    expect(
      (await post(`/api/v1/recovery/${id}/no-access`, { contactEmail: "maria.work@company.example" })).json()
        .caseRef,
    ).toBe(caseRef);
    expect(
      (
        await post(`/api/v1/recovery/${first}/no-access`, { contactEmail: "maria.work@company.example" })
      ).json().caseRef,
    ).toBe(caseRef);
    const ack = (await t.messages()).filter((m) => m.recipient === "maria.work@company.example");
    expect(ack).toHaveLength(1);
    expect(ack[0]!.body).toContain(caseRef);

    // A new contact from a later attempt is added to the case (see src/cases/service.test.ts).
    const third = await start();
    expect(
      (await post(`/api/v1/recovery/${third}/no-access`, { contactEmail: "maria@new.example" })).json()
        .caseRef,
    ).toBe(caseRef);
    const kept = await t.database.db
      .selectFrom("cases")
      .select("contact_email")
      .where("ref", "=", caseRef)
      .executeTakeFirstOrThrow();
    expect(kept.contact_email).toBe("maria.work@company.example");
  });

  it("opens one case when several attempts ask at the same time", async () => {
    const ids = [await start(), await start(), await start()];
    const answers = await Promise.all(
      ids.map((id) =>
        post(`/api/v1/recovery/${id}/no-access`, { contactEmail: "maria.work@company.example" }),
      ),
    );
    expect(new Set(answers.map((a) => a.json().caseRef)).size).toBe(1);
    expect(await t.database.db.selectFrom("cases").selectAll().execute()).toHaveLength(1);
  });

  it("refuses the blocked address itself as the contact", async () => {
    const id = await start();
    const response = await post(`/api/v1/recovery/${id}/no-access`, {
      contactEmail: maria.address.toUpperCase(),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe("ERR_CONTACT_IS_ACCOUNT");
    expect(await t.database.db.selectFrom("cases").selectAll().execute()).toEqual([]);
  });
});
