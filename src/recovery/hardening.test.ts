import { sql } from "kysely";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  auth,
  concurrencyTest,
  createAccount,
  createLockedMaria,
  lockAccount,
  maria,
  NEW_PASSWORD,
  RecordingTransport,
  type TestApp,
  testApp,
  testDialect,
} from "../../test/helpers.js";
import type { OpenOptions } from "../db/database.js";
import { HOUR as HOUR_MS } from "../platform/clock.js";
import { buildApp } from "../server.js";

const DAY_MS = 24 * HOUR_MS;

let t: TestApp;
let extraNodes: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const node of extraNodes) await node.close();
  extraNodes = [];
  await t.close();
});

const BACKUP = "maria-rosa@gmail.example";
const post = (url: string, payload: unknown, ip = "198.51.100.7") =>
  t.server.inject({ method: "POST", url, payload: payload as object, remoteAddress: ip });
const start = async (address = maria.address, ip?: string) => {
  const response = await post("/api/v1/recovery", { address }, ip);
  expect(response.statusCode, response.body).toBe(201);
  return response.json().recoveryId as string;
};
const choose = (id: string, value = BACKUP, ip?: string) =>
  post(`/api/v1/recovery/${id}/channel`, { kind: "email", value }, ip);
const typeCode = (id: string, code: string | null) => post(`/api/v1/recovery/${id}/code`, { code });
const setPassword = (id: string, passwordToken: string) =>
  post(`/api/v1/recovery/${id}/password`, { password: NEW_PASSWORD, passwordToken });
const wrongFor = (code: string | null) => (code === "000000" ? "111111" : "000000");
const lastLinkToken = async (recipient = BACKUP) => {
  const mails = (await t.messages()).filter((m) => m.recipient === recipient);
  return /\/recover\/link\?token=([\w-]+)/.exec(mails.at(-1)?.body ?? "")?.[1] ?? null;
};
const accountStatus = async (address = maria.address) =>
  (await t.server.inject({ url: `/api/v1/accounts/${address}`, headers: auth })).json();

/**
 * Either the new code came first and voided hers, or her confirmed step stands: the recovery still
 * waits for her password, behind her token (a second password step would only say "same password").
 */
async function expectStepStands(id: string, typed: { statusCode: number }, undo: { statusCode: number }) {
  if (typed.statusCode !== 200) return expect(undo.statusCode).toBe(202);
  expect(undo.statusCode).toBe(409);
  const recovery = await t.database.db
    .selectFrom("recoveries")
    .select(["state", "password_token_hash"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  expect(recovery.state).toBe("set_password");
  expect(recovery.password_token_hash).not.toBeNull();
}

/** Other server nodes on the same database, each with its own connection pool. */
async function otherNodes(count: number, options?: OpenOptions) {
  const nodes = [];
  for (let i = 0; i < count; i++) {
    const database = t.database.openAnother(options);
    const app = await buildApp({
      config: t.config,
      database,
      clock: t.clock,
      logger: false,
      transports: { email: new RecordingTransport(), sms: new RecordingTransport() },
    });
    await app.server.ready();
    const node = {
      server: app.server,
      database,
      close: async () => {
        await app.server.close();
        await database.close();
      },
    };
    extraNodes.push(node);
    nodes.push(node);
  }
  return [t, ...nodes];
}

describe("only the person who confirmed the code sets the password", () => {
  it("hands out a one-time password token, and the password step refuses anything else", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    await choose(id);
    const confirmed = await typeCode(id, await t.lastCodeFor(BACKUP));
    const { passwordToken } = confirmed.json();
    expect(passwordToken).toMatch(/^[\w-]{43}$/);
    for (const forged of ["", "x".repeat(43), passwordToken.slice(0, -1)]) {
      const refused = await post(`/api/v1/recovery/${id}/password`, {
        password: NEW_PASSWORD,
        passwordToken: forged || " ",
      });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe("ERR_PASSWORD_TOKEN");
    }
    expect((await accountStatus()).status).toBe("locked");
    expect((await setPassword(id, passwordToken)).statusCode).toBe(200);
    // Stored only as an HMAC, and no audit detail holds the recovery id or a token in clear.
    const stored = JSON.stringify(await t.database.db.selectFrom("recoveries").selectAll().execute());
    expect(stored).not.toContain(passwordToken);
    const audit = JSON.stringify(await t.database.db.selectFrom("audit_log").selectAll().execute());
    expect(audit).not.toContain(id);
    expect(audit).not.toContain(passwordToken);
  });

  it("refuses a password step without its token with 403, not a validation error", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    await choose(id);
    await typeCode(id, await t.lastCodeFor(BACKUP));
    const refused = await post(`/api/v1/recovery/${id}/password`, { password: NEW_PASSWORD });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe("ERR_PASSWORD_TOKEN");
  });

  it("lets nobody else undo a confirmed step with a new code, until its 30 minutes are over", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    await choose(id);
    const { passwordToken } = (await typeCode(id, await t.lastCodeFor(BACKUP))).json();
    // Whoever knows the recovery id (it was in a link, a log) asks a new code to undo her step.
    const undo = await choose(id, "decoy@evil.example", "203.0.113.9");
    expect(undo.statusCode).toBe(409);
    expect(undo.json().error.code).toBe("ERR_RECOVERY_STEP");
    expect((await setPassword(id, passwordToken)).statusCode).toBe(200);

    // A confirmed step whose 30 minutes ran out may ask for a new code (to be confirmed again).
    const later = await start();
    await choose(later);
    await typeCode(later, await t.lastCodeFor(BACKUP));
    t.clock.advance(31 * 60_000);
    expect((await choose(later)).statusCode).toBe(202);
  });

  it("lets no new code asked at the same moment undo a confirmed step", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const askNew = (id: string) => choose(id, "decoy@evil.example", "203.0.113.9");
    for (const codeFirst of [true, false]) {
      const id = await start();
      await choose(id);
      const code = await t.lastCodeFor(BACKUP);
      // The new code's request reads the recovery while the right code is being confirmed.
      const [typed, undo] = codeFirst
        ? await Promise.all([typeCode(id, code), askNew(id)])
        : await Promise.all([askNew(id), typeCode(id, code)]).then(([u, c]) => [c, u] as const);
      await expectStepStands(id, typed, undo);
    }
  });

  concurrencyTest("lets no new code asked from another node undo a confirmed step", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const [, other] = await otherNodes(1);
    for (let round = 0; round < 5; round++) {
      const id = await start();
      await choose(id);
      const code = await t.lastCodeFor(BACKUP);
      const [typed, undo] = await Promise.all([
        typeCode(id, code),
        other!.server.inject({
          method: "POST",
          url: `/api/v1/recovery/${id}/channel`,
          payload: { kind: "email", value: "decoy@evil.example" },
          remoteAddress: "203.0.113.9",
        }),
      ]);
      await expectStepStands(id, typed, undo);
    }
  });

  it("answers the second of two simultaneous right codes with 409 ERR_RECOVERY_STEP", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    await choose(id);
    const code = await t.lastCodeFor(BACKUP);
    const answers = await Promise.all([typeCode(id, code), typeCode(id, code)]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
    expect(answers.find((a) => a.statusCode === 409)!.json().error.code).toBe("ERR_RECOVERY_STEP");
  });

  concurrencyTest("lets one of 30 simultaneous right codes through, from several nodes", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const nodes = await otherNodes(4);
    const id = await start();
    await choose(id);
    const code = await t.lastCodeFor(BACKUP);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        nodes[i % nodes.length]!.server.inject({
          method: "POST",
          url: `/api/v1/recovery/${id}/code`,
          payload: { code },
        }),
      ),
    );
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 409)).toBe(true);
  });
});

describe("the same work whatever the address or the value typed", () => {
  it("hashes as much for an address with an account as for one without, for a right backup as for a wrong one", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const hmac = vi.spyOn(t.app.platform.secrets, "hmac");
    const hashes = async (step: () => Promise<unknown>) => {
      hmac.mockClear();
      await step();
      return hmac.mock.calls.length;
    };
    let known = "";
    let unknown = "";
    const starts = {
      known: await hashes(async () => (known = await start())),
      unknown: await hashes(async () => (unknown = await start("nobody@hotmail.example"))),
    };
    expect(starts.known).toBeGreaterThan(0);
    expect(starts.unknown).toBe(starts.known);
    const right = await hashes(() => choose(known));
    // The right one is sent (before the next request voids its code); the others never are.
    expect((await t.messages()).map((m) => m.recipient)).toEqual([BACKUP]);
    const codes = {
      right,
      wrong: await hashes(() => choose(known, "mallory@evil.example")),
      unknown: await hashes(() => choose(unknown, "mallory@evil.example")),
    };
    expect(codes.right).toBeGreaterThan(0);
    expect(codes).toEqual({ right, wrong: right, unknown: right });
    expect(await t.messages()).toHaveLength(1);
  });
});

describe("noise never keeps the owner out", () => {
  it("never voids a real code nor uses up its budget for requests to other destinations", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const owner = await start();
    await choose(owner);
    const code = await t.lastCodeFor(BACKUP);
    // A stranger, in recoveries of their own, types destinations that are not verified alternates.
    for (let i = 0; i < 12; i++) {
      const noise = await start(maria.address, `203.0.113.${i}`);
      expect((await choose(noise, `guess${i % 3}@evil.example`)).statusCode).toBe(202);
    }
    // Her code still works, and her budget for her own destination is whole.
    expect((await typeCode(owner, code)).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await choose(await start(), BACKUP)).statusCode).toBe(202);
  });

  it("caps each typed destination alike, real or decoy, with a Retry-After that says how long", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    for (const destination of [BACKUP, "decoy@evil.example"]) {
      for (let i = 0; i < 5; i++) expect((await choose(id, destination)).statusCode).toBe(202);
      const capped = await choose(id, destination);
      expect(capped.statusCode).toBe(429);
      expect(capped.json().error.code).toBe("ERR_TOO_MANY_CODES");
      expect(capped.headers["retry-after"]).toBe("3600");
      expect(capped.json().error.message).toContain("60");
    }
  });

  it("caps a typed phone number alike for every account, whatever the account's country", async () => {
    t = await testApp();
    await createAccount(t, {
      address: "jan.peeters@telenet.example",
      country: "BE",
      alternates: [{ kind: "phone", value: "+32 495 65 43 21", verified: true }],
    });
    await createAccount(t, {
      address: "lena.schmidt@web.example",
      country: "DE",
      alternates: [{ kind: "email", value: "lena@family.example", verified: true }],
    });
    const answers: number[] = [];
    for (const address of ["jan.peeters@telenet.example", "lena.schmidt@web.example", "nobody@web.example"]) {
      const id = await start(address);
      const phone = (value: string) => post(`/api/v1/recovery/${id}/channel`, { kind: "phone", value });
      for (let i = 0; i < 5; i++) expect((await phone("0470 99 88 77")).statusCode).toBe(202);
      answers.push((await phone("+32 470 99 88 77")).statusCode);
    }
    expect(answers).toEqual([429, 429, 429]);
  });

  it("does the work of a real code for a wrong destination, and never sends it", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    expect((await choose(id, "decoy@evil.example")).statusCode).toBe(202);
    expect(await t.messages()).toEqual([]);
    const rows = await t.database.db.selectFrom("outbox").selectAll().execute();
    expect(rows.map((r) => [r.status, r.recipient, r.body])).toEqual([["voided", "", ""]]);
    expect((await t.server.inject({ url: "/readyz" })).statusCode).toBe(200);
  });

  it("confirms by the mail's link: a GET changes nothing, the POST hands out the password token", async () => {
    t = await testApp({ SESAME_WRONG_CODES_PER_ADDRESS_PER_DAY: "3" });
    await createLockedMaria(t);
    const id = await start();
    await choose(id);
    const token = (await lastLinkToken())!;
    expect(token).toMatch(/^[\w-]{43}$/);
    // A mail scanner opening the link spends nothing.
    const page = await t.server.inject({ url: `/recover/link?token=${token}&lang=fr` });
    expect(page.statusCode).toBe(200);
    expect(
      (await t.database.db.selectFrom("recoveries").select("state").executeTakeFirstOrThrow()).state,
    ).toBe("enter_code");
    // An attacker spends every typed guess the address has today: the link still works.
    for (let i = 0; i < 3; i++) await typeCode(await start(maria.address, "203.0.113.9"), "000000");
    for (let i = 0; i < 3; i++) await typeCode(id, wrongFor(await t.lastCodeFor(BACKUP)));
    expect((await typeCode(id, await t.lastCodeFor(BACKUP))).statusCode).toBe(429);
    const bad = await post("/api/v1/recovery/link", { token: `${token.slice(0, -2)}xx` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("ERR_LINK_INVALID");
    const confirmed = await post("/api/v1/recovery/link", { token });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toEqual({
      recoveryId: id,
      next: "set_password",
      passwordToken: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect((await setPassword(id, confirmed.json().passwordToken)).statusCode).toBe(200);
  });

  it("says a newer code was sent when the link of an older mail is used", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    await choose(id);
    const older = (await lastLinkToken())!;
    await choose(id);
    const stale = await post("/api/v1/recovery/link", { token: older });
    expect(stale.statusCode).toBe(410);
    expect(stale.json().error.code).toBe("ERR_CODE_SUPERSEDED");
    expect((await post("/api/v1/recovery/link", { token: (await lastLinkToken())! })).statusCode).toBe(200);
  });

  it("counts only well-formed 6-digit codes as tries", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    await choose(id);
    for (const code of [" ", "abcdef", "12345", "1234567", "12a456"]) {
      const response = await typeCode(id, code);
      expect(response.statusCode, code).toBe(400);
      expect(response.json().error.code).toBe("ERR_CODE_FORMAT");
    }
    const wrong = await typeCode(id, wrongFor(await t.lastCodeFor(BACKUP)));
    expect(wrong.json().error).toMatchObject({ code: "ERR_CODE_INVALID", attemptsLeft: 4 });
    const spaced = (await t.lastCodeFor(BACKUP))!.replace(/(\d{3})/, "$1 ");
    expect((await typeCode(id, spaced)).statusCode).toBe(200);
  });

  it("caps wrong typed codes per address and day across recoveries, known or not", async () => {
    t = await testApp({ SESAME_WRONG_CODES_PER_ADDRESS_PER_DAY: "4" });
    await createLockedMaria(t);
    for (const address of [maria.address, "ghost@hotmail.example"]) {
      for (let i = 0; i < 4; i++) {
        const id = await start(address, `203.0.113.${i}`);
        await choose(id);
        expect((await typeCode(id, "000000")).statusCode).toBeLessThan(429);
      }
      const id = await start(address);
      await choose(id);
      const capped = await typeCode(id, "000000");
      expect(capped.statusCode).toBe(429);
      expect(capped.json().error.code).toBe("ERR_TOO_MANY_WRONG_CODES");
      expect(Number(capped.headers["retry-after"])).toBe(DAY_MS / 1000);
      expect(capped.json().error.message).toContain("24");
    }
    // Even the right code waits: the budget holds against a lucky guess; the day after it is whole.
    t.clock.advance(HOUR_MS + 1);
    const id = await start();
    await choose(id);
    const code = await t.lastCodeFor(BACKUP);
    expect((await typeCode(id, code)).statusCode).toBe(429);
    t.clock.advance(DAY_MS);
    await choose(id);
    expect((await typeCode(id, await t.lastCodeFor(BACKUP))).statusCode).toBe(200);
  });

  it("caps starts per address and source, so starts from elsewhere never block the owner", async () => {
    t = await testApp();
    await createLockedMaria(t);
    for (let i = 0; i < 20; i++) await start(maria.address, "203.0.113.50");
    const blocked = await post("/api/v1/recovery", { address: maria.address }, "203.0.113.50");
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe("ERR_TOO_MANY_STARTS");
    expect(blocked.headers["retry-after"]).toBe(String(HOUR_MS / 1000));
    expect(blocked.json().error.message).toContain("60 minutes");
    expect(blocked.json().error.message).not.toMatch(/a minute/);
    // The owner, from her own connection, is not blocked; an IPv6 /64 counts as one source.
    await start(maria.address, "198.51.100.7");
    for (let i = 0; i < 20; i++) await start(maria.address, `2001:db8:1:2::${(i + 1).toString(16)}`);
    expect(
      (await post("/api/v1/recovery", { address: maria.address }, "2001:db8:1:2:ffff::1")).statusCode,
    ).toBe(429);
    expect((await post("/api/v1/recovery", { address: maria.address }, "2001:db8:1:3::1")).statusCode).toBe(
      201,
    );
  });

  it("keeps no cap counter longer than the longest window", async () => {
    t = await testApp();
    await start("someone@x.example");
    t.clock.advance(DAY_MS + 1);
    await start("other@x.example");
    const rows = await t.database.db.selectFrom("cap_counters").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain("x.example");
  });

  it("counts a flood of starts about one address exactly, and on SQLite commits it in shared batches", async () => {
    t = await testApp({ SESAME_RECOVERIES_PER_ACCOUNT_PER_HOUR: "5" });
    await createAccount(t, maria);
    // How many use-case transactions about the address are open at once.
    const platform = t.app.platform;
    const transact = platform.transact.bind(platform);
    let open = 0;
    let mostOpen = 0;
    platform.transact = async (work) => {
      mostOpen = Math.max(mostOpen, ++open);
      try {
        return await transact(work);
      } finally {
        open--;
      }
    };
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => post("/api/v1/recovery", { address: maria.address })),
    );
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([...Array(5).fill(201), ...Array(7).fill(429)]);
    // PostgreSQL: queued in memory one at a time, so they do not each hold a pooled connection.
    // SQLite: one connection and one writer; queued, each would have waited for a commit of its own.
    if (testDialect === "sqlite") expect(mostOpen).toBeGreaterThan(5);
    else expect(mostOpen).toBe(1);
  });

  concurrencyTest(
    "keeps serving everyone while a flood of starts about one address comes from many IPs",
    async () => {
      t = await testApp();
      await createAccount(t, { address: "jan.peeters@telenet.example" });
      await createAccount(t, { address: "lena.schmidt@web.example" });
      // A node whose pool gives up waiting for a free connection quickly, so waiting shows.
      const [, node] = await otherNodes(1, { poolSize: 4, timeouts: { connectMs: 150, statementMs: 5_000 } });
      // Its four connections opened first: what the 150 ms bound is about is waiting for a busy pool,
      // not a new connection's setup, which a machine busy with the other test files can take longer.
      await Promise.all(
        Array.from({ length: 4 }, () => sql`select pg_sleep(0.05)`.execute(node!.database.db)),
      );
      const start = (address: string, ip: string) =>
        node!.server.inject({
          method: "POST",
          url: "/api/v1/recovery",
          payload: { address },
          remoteAddress: ip,
        });
      const flood = Array.from({ length: 400 }, (_, i) =>
        start("jan.peeters@telenet.example", `10.9.${i >> 8}.${i & 255}`),
      );
      const bystander = Array.from({ length: 10 }, () => start("lena.schmidt@web.example", "198.51.100.50"));
      const [floodAnswers, bystanderAnswers] = await Promise.all([
        Promise.all(flood),
        Promise.all(bystander),
      ]);
      const statuses = (answers: Array<{ statusCode: number }>) => [
        ...new Set(answers.map((a) => a.statusCode)),
      ];
      // Requests about one address queue in memory, not each on a connection: nobody meets a full pool.
      expect(statuses(floodAnswers)).toEqual([201]);
      expect(statuses(bystanderAnswers)).toEqual([201]);
      // The owner, from her own address, right after: the breaker was never tripped.
      expect((await start("jan.peeters@telenet.example", "198.51.100.60")).statusCode).toBe(201);
    },
  );

  concurrencyTest("holds the start cap against 100 parallel starts on several nodes", async () => {
    t = await testApp();
    const nodes = await otherNodes(4);
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        nodes[i % nodes.length]!.server.inject({
          method: "POST",
          url: "/api/v1/recovery",
          payload: { address: maria.address },
          remoteAddress: "203.0.113.77",
        }),
      ),
    );
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(20);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(80);
  });

  concurrencyTest("holds the destination cap and one live code against 40 parallel requests", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const nodes = await otherNodes(4);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await start(maria.address, `203.0.113.${i}`));
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        nodes[i % nodes.length]!.server.inject({
          method: "POST",
          url: `/api/v1/recovery/${ids[i % ids.length]}/channel`,
          payload: { kind: "email", value: BACKUP },
        }),
      ),
    );
    expect(answers.filter((a) => a.statusCode === 202)).toHaveLength(5);
    const live = await t.database.db
      .selectFrom("recovery_codes")
      .select("id")
      .where("voided_at", "is", null)
      .where("code_hash", "is not", null)
      .execute();
    expect(live).toHaveLength(1);
  });

  concurrencyTest("opens one case with one contact against 30 parallel no-access reports", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const nodes = await otherNodes(4);
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push(await start(maria.address, `203.0.113.${i}`));
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        nodes[i % nodes.length]!.server.inject({
          method: "POST",
          url: `/api/v1/recovery/${ids[i % ids.length]}/no-access`,
          payload: { contactEmail: "maria.work@company.example" },
        }),
      ),
    );
    expect(answers.every((a) => a.statusCode === 201)).toBe(true);
    expect(await t.database.db.selectFrom("cases").selectAll().execute()).toHaveLength(1);
    expect(await t.database.db.selectFrom("case_contacts").selectAll().execute()).toHaveLength(1);
  });
});

describe("languages", () => {
  it("writes the code mail and the recovered notice in the account's language, whatever the page's", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const response = await post("/api/v1/recovery", { address: maria.address, locale: "de" });
    const id = response.json().recoveryId;
    await choose(id);
    const codeMail = (await t.messages()).find((m) => m.recipient === BACKUP)!;
    expect(codeMail.subject).toMatch(/récupération/i);
    expect(codeMail.body).toContain("lang=fr");
    const token = (await typeCode(id, await t.lastCodeFor(BACKUP))).json().passwordToken;
    expect((await setPassword(id, token)).statusCode).toBe(200);
    const notice = (await t.messages()).find((m) => m.recipient === maria.address)!;
    expect(notice.subject).toBe("Votre compte a été récupéré");
  });

  it("follows only the request's language before the code, never the account's", async () => {
    t = await testApp();
    await createAccount(t, { address: "jan@telenet.example", locale: "nl" });
    const page = await t.server.inject({ url: "/recover", headers: { "accept-language": "en" } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const cookie = String(page.headers["set-cookie"]).split(";")[0]!;
    const started = await t.server.inject({
      method: "POST",
      url: "/recover",
      headers: { cookie, "accept-language": "en", "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ _csrf: csrf, address: "jan@telenet.example" }).toString(),
    });
    expect(started.headers.location).toMatch(/\?lang=en$/);
    const row = await t.database.db.selectFrom("recoveries").select("locale").executeTakeFirstOrThrow();
    expect(row.locale).toBe("en");
  });
});

describe("what a recovery leaves behind", () => {
  for (const reason of ["abuse", "admin"] as const) {
    it(`never lifts an ${reason} lock, and opens a case instead`, async () => {
      t = await testApp();
      await createAccount(t, maria);
      await lockAccount(t, maria.address, reason);
      const id = await start();
      await choose(id);
      const token = (await typeCode(id, await t.lastCodeFor(BACKUP))).json().passwordToken;
      const done = await setPassword(id, token);
      expect(done.statusCode).toBe(200);
      expect(done.json().caseRef).toMatch(/^SES-/);
      const status = await accountStatus();
      expect(status.status).toBe("locked");
      expect(status.lock.reason).toBe(reason);
    });
  }

  it("starts a new customer clock for a new problem after a successful recovery", async () => {
    t = await testApp();
    await createLockedMaria(t);
    const id = await start();
    await choose(id);
    const token = (await typeCode(id, await t.lastCodeFor(BACKUP))).json().passwordToken;
    expect((await setPassword(id, token)).statusCode).toBe(200);
    t.clock.advance(5 * DAY_MS);
    const newProblem = t.clock.now();
    const later = await start();
    t.clock.advance(HOUR_MS);
    const opened = await post(`/api/v1/recovery/${later}/no-access`, { contactEmail: "maria@new.example" });
    expect(opened.statusCode).toBe(201);
    const kase = await t.database.db.selectFrom("cases").selectAll().executeTakeFirstOrThrow();
    expect(Number(kase.first_attempt_at)).toBe(newProblem);
  });
});
