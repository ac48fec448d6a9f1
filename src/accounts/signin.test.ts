import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  auth,
  concurrencyTest,
  createAccount,
  lockAccount,
  maria,
  NEW_PASSWORD,
  STRONG_PASSWORD,
  type TestApp,
  testApp,
} from "../../test/helpers.js";
import type { Tx } from "../db/database.js";
import { DAY, MINUTE } from "../platform/clock.js";
import { inTransaction } from "../platform/context.js";
import { buildApp } from "../server.js";
import { hashingRoute, hashPassword, passwordHasher } from "./passwords.js";

let t: TestApp;
afterEach(() => t.close());

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.server.inject({ method: "POST", url, payload: payload as object, headers });
const get = (url: string, headers: Record<string, string> = auth) => t.server.inject({ url, headers });
const signin = (password: string, deviceId?: string, address = maria.address) =>
  post("/api/v1/signin", { address, password, ...(deviceId ? { deviceId } : {}) });
const account = async (address = maria.address) => (await get(`/api/v1/accounts/${address}`)).json();
const auditTypes = async (address = maria.address) =>
  ((await get(`/api/v1/accounts/${address}/audit`)).json().events as Array<{ type: string }>).map(
    (e) => e.type,
  );
const auditOf = async (address = maria.address) =>
  (await get(`/api/v1/accounts/${address}/audit`)).json().events as Array<{
    type: string;
    detail: Record<string, unknown>;
  }>;
const failTenTimes = async (address = maria.address) => {
  for (let i = 0; i < 10; i++) expect((await signin(`guess-${i}`, undefined, address)).statusCode).toBe(401);
};
/** What a client can observe of an answer, with the address (of equal length) made the same. */
const observable = (response: Awaited<ReturnType<typeof signin>>, address: string) => {
  const { date: _date, ...headers } = response.headers;
  return {
    status: response.statusCode,
    headers,
    body: response.body.replaceAll(encodeURIComponent(address), "ADDRESS"),
  };
};

/** The account's id, read through the service API. */
const idOf = async (address = maria.address) => (await account(address)).id as string;

/** What a completed recovery does to the account (the recovery feature calls exactly these). */
const completeRecovery = async (address: string, password: string, completingDeviceId: string | null) => {
  const accountId = await idOf(address);
  const checked = await t.app.services.accounts.checkNewPassword(address, password, "en");
  if (!checked.ok) throw checked.error;
  return inTransaction(t.app.platform, (tx) =>
    t.app.services.accounts.setNewPassword(tx, accountId, checked.accepted, "recovery", completingDeviceId),
  );
};

describe("the brute_force throttle", () => {
  beforeEach(async () => {
    t = await testApp();
    await createAccount(t, maria);
  });

  it("answers alike for a right and a wrong password, and for an unknown and an existing address", async () => {
    // Same length as maria's address, so bodies and headers can be compared byte for byte.
    const ghost = "maria-rosb@hotmail.example";
    await failTenTimes(maria.address);
    await failTenTimes(ghost);
    const answers = [
      observable(await signin(STRONG_PASSWORD), maria.address),
      observable(await signin("wrong password"), maria.address),
      observable(await signin(STRONG_PASSWORD, undefined, ghost), ghost),
      observable(await signin("wrong password", undefined, ghost), ghost),
    ];
    const [first] = answers;
    expect(first!.status).toBe(423);
    expect(first!.headers["retry-after"]).toBe("60");
    expect(first!.headers["set-cookie"]).toBeUndefined();
    expect(JSON.parse(first!.body).error).toMatchObject({
      code: "ERR_ACCOUNT_LOCKED",
      lock: { reason: "brute_force", until: new Date(t.clock.now() + MINUTE).toISOString() },
      recoverUrl: "http://sesame.test/recover?lang=en&address=ADDRESS",
    });
    for (const answer of answers) expect(answer).toEqual(first);
    // The account's own view still shows the lock.
    expect((await account()).lock.reason).toBe("brute_force");
  });

  it("does not check the password during the throttle: nothing records that it was right", async () => {
    await failTenTimes();
    expect((await signin(STRONG_PASSWORD)).statusCode).toBe(423);
    // Nothing said the password was right: the throttle's end lets it in like any other time.
    expect((await auditTypes()).filter((type) => type === "signin.blocked")).toEqual([]);
  });

  it("gives a 423 link in the request's language, never the account's", async () => {
    await createAccount(t, { address: "jan@telenet.example", locale: "nl" });
    await lockAccount(t, "jan@telenet.example", "compromise");
    const right = await t.server.inject({
      method: "POST",
      url: "/api/v1/signin",
      headers: { "accept-language": "de" },
      payload: { address: "jan@telenet.example", password: STRONG_PASSWORD },
    });
    expect(right.statusCode).toBe(423);
    expect(right.json().error.recoverUrl).toBe(
      "http://sesame.test/recover?lang=de&address=jan%40telenet.example",
    );
    await failTenTimes("jan@telenet.example");
    const throttled = await signin("x", undefined, "jan@telenet.example");
    expect(throttled.json().error.recoverUrl).toContain("?lang=en&");
  });

  it("counts forged and client-chosen device ids as unknown devices", async () => {
    const issued = (await signin(STRONG_PASSWORD)).json().deviceId as string;
    const [, random = "", signature = ""] = issued.split(".");
    const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
    const forged = [
      "d",
      "home-laptop",
      `d1.${flip(random)}.${signature}`,
      `d1.${random}.${flip(signature)}`,
      `d2.${random}.${signature}`,
    ];
    // A client-chosen id is not taken as the device's id: a new one is issued.
    expect((await signin(STRONG_PASSWORD, "d")).json().deviceId).toMatch(/^d1\./);
    expect((await signin(STRONG_PASSWORD, "d")).json().deviceId).not.toBe("d");
    await failTenTimes();
    for (const deviceId of forged)
      expect((await signin(STRONG_PASSWORD, deviceId)).statusCode, deviceId).toBe(423);
    expect((await signin(STRONG_PASSWORD, issued)).statusCode).toBe(200);
    // The same validation for integrations' events: a forged id is a stranger and counts on the address.
    t.clock.advance(MINUTE);
    for (let i = 0; i < 10; i++)
      await post(
        "/api/v1/events",
        { type: "signin_failed", address: maria.address, deviceId: forged[2] },
        auth,
      );
    expect((await account()).lock?.reason).toBe("brute_force");
  });

  it("counts a known device's failures too, and forgets the device at 3 times the threshold", async () => {
    const stolen = (await signin(STRONG_PASSWORD)).json().deviceId as string;
    await failTenTimes();
    for (let i = 0; i < 29; i++) expect((await signin(`guess-${i}`, stolen)).statusCode).toBe(401);
    expect(await auditTypes()).not.toContain("device.forgotten");
    expect((await signin("guess-29", stolen)).statusCode).toBe(401);
    expect(await auditTypes()).toContain("device.forgotten");
    // From now on it is a stranger: the throttle holds it, right password or not.
    expect((await signin(STRONG_PASSWORD, stolen)).statusCode).toBe(423);
  });

  it("starts a known device's count afresh when its owner signs in from it", async () => {
    const laptop = (await signin(STRONG_PASSWORD)).json().deviceId as string;
    for (let i = 0; i < 29; i++) expect((await signin(`typo-${i}`, laptop)).statusCode).toBe(401);
    expect((await signin(STRONG_PASSWORD, laptop)).statusCode).toBe(200);
    // 29 more typos: with the old count the 30th failure would have made the laptop a stranger.
    for (let i = 0; i < 29; i++) expect((await signin(`typo-again-${i}`, laptop)).statusCode).toBe(401);
    expect(await auditTypes()).not.toContain("device.forgotten");
    expect((await signin(STRONG_PASSWORD, laptop)).statusCode).toBe(200);
  });

  it("counts integrations' signin_failed events of a known device on the device", async () => {
    const imap = (await signin(STRONG_PASSWORD)).json().deviceId as string;
    for (let i = 0; i < 15; i++)
      await post("/api/v1/events", { type: "signin_failed", address: maria.address, deviceId: imap }, auth);
    expect((await account()).status).toBe("active");
  });
});

describe("a sign-in whose password could not be checked", () => {
  const libuvUpTo = hashingRoute.libuvUpTo;
  beforeEach(async () => {
    t = await testApp();
    await createAccount(t, maria);
    hashingRoute.libuvUpTo = 0; // on the threads, which the test ends
  });
  afterEach(() => {
    hashingRoute.libuvUpTo = libuvUpTo;
  });

  it("answers 503 ERR_UNAVAILABLE and counts nothing, however often, and the next sign-in goes in", async () => {
    // The hashing threads are ended again and again while each sign-in waits: its verify never
    // answers. Taken for wrong passwords, twelve of these would lock the owner out.
    for (let i = 0; i < 12; i++) {
      let answered = false;
      const pending = signin(STRONG_PASSWORD).finally(() => {
        answered = true;
      });
      while (!answered) {
        await passwordHasher.close();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const answer = await pending;
      expect(answer.statusCode).toBe(503);
      expect(answer.headers["retry-after"]).toBe("1");
      expect(answer.json().error).toMatchObject({ code: "ERR_UNAVAILABLE" });
      expect(answer.body).not.toContain("hashing");
    }
    expect(await auditTypes()).not.toContain("signin.failed");
    expect(await auditTypes()).not.toContain("account.locked");
    // The database was never the problem: other requests are not refused meanwhile.
    expect((await get(`/api/v1/accounts/${maria.address}`)).statusCode).toBe(200);
    expect((await signin(STRONG_PASSWORD)).statusCode).toBe(200);
  });
});

describe("SESAME_HASH_THREADS", () => {
  it("bounds the threads that hash a burst of sign-ins", async () => {
    t = await testApp({ SESAME_HASH_THREADS: "1" });
    await createAccount(t, maria);
    await passwordHasher.close();
    const answers = await Promise.all(Array.from({ length: 8 }, () => signin(STRONG_PASSWORD)));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
    // Still up for a second after the burst: one thread, where the default starts one per core.
    expect(passwordHasher.active).toBe(1);
  });
});

describe("known devices are lost", () => {
  beforeEach(async () => {
    t = await testApp();
    await createAccount(t, maria);
  });

  it("forgets the hijacker's device on a compromise lock", async () => {
    const hijacker = (await signin(STRONG_PASSWORD)).json().deviceId as string;
    await failTenTimes();
    expect((await signin(STRONG_PASSWORD, hijacker)).statusCode).toBe(200);
    await lockAccount(t, maria.address, "compromise");
    expect((await auditOf()).find((e) => e.type === "devices.forgotten")?.detail).toMatchObject({ count: 1 });
    const left = await t.database.db
      .selectFrom("known_devices")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(0);
  });

  it("forgets the hijacker's device after the owner's recovery, and keeps the device that completed it", async () => {
    const hijacker = (await signin(STRONG_PASSWORD)).json().deviceId as string;
    const ownersPhone = (await signin(STRONG_PASSWORD)).json().deviceId as string;
    // No lock came first (a forgotten password): the recovery alone must forget the hijacker.
    expect(await completeRecovery(maria.address, NEW_PASSWORD, ownersPhone)).toBeNull();
    await failTenTimes();
    expect((await signin(NEW_PASSWORD, hijacker)).statusCode).toBe(423);
    expect((await signin(NEW_PASSWORD, ownersPhone)).statusCode).toBe(200);
  });
  it("keeps the 20 devices seen last, so a client that never sends its id back cannot grow the list", async () => {
    const issued: string[] = [];
    for (let i = 0; i < 21; i++) {
      issued.push((await signin(STRONG_PASSWORD)).json().deviceId);
      t.clock.advance(1);
    }
    const kept = await t.database.db
      .selectFrom("known_devices")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(kept.n)).toBe(20);
    await failTenTimes();
    expect((await signin(STRONG_PASSWORD, issued[0])).statusCode).toBe(423);
    expect((await signin(STRONG_PASSWORD, issued[20])).statusCode).toBe(200);
  });
});

describe("lock order: admin > abuse > compromise > brute_force", () => {
  beforeEach(async () => {
    t = await testApp();
    await createAccount(t, maria);
  });

  it("never lowers a lock from an event or an API call, and records the attempt", async () => {
    await lockAccount(t, maria.address, "abuse");
    await post("/api/v1/events", { type: "malware_detected", address: maria.address }, auth);
    expect((await account()).lock.reason).toBe("abuse");
    const asked = await post(`/api/v1/accounts/${maria.address}/lock`, { reason: "brute_force" }, auth);
    expect(asked.json()).toMatchObject({ status: "locked", lock: { reason: "abuse" } });
    expect(asked.json().lock.until).toBeUndefined();
    await post(`/api/v1/accounts/${maria.address}/lock`, { reason: "compromise" }, auth);
    expect((await account()).lock.reason).toBe("abuse");
    const kept = (await auditOf()).filter((e) => e.type === "account.lock_kept").map((e) => e.detail);
    expect(kept).toEqual([
      { asked: "compromise", kept: "abuse" },
      { asked: "brute_force", kept: "abuse" },
      { asked: "compromise", kept: "abuse" },
    ]);
    // A stronger one replaces it; a recovery still cannot lift it.
    await lockAccount(t, maria.address, "admin");
    await lockAccount(t, maria.address, "abuse");
    expect((await account()).lock.reason).toBe("admin");
    expect(await completeRecovery(maria.address, NEW_PASSWORD, null)).toBe("admin");
    expect((await account()).lock.reason).toBe("admin");
  });

  it("does not let a brute_force lock replace a compromise lock", async () => {
    await lockAccount(t, maria.address, "compromise");
    await lockAccount(t, maria.address, "brute_force");
    expect((await account()).lock).toEqual({ reason: "compromise", since: expect.any(String) });
    t.clock.advance(60 * MINUTE);
    expect((await account()).lock.reason).toBe("compromise");
  });
});

describe("SESAME_LOCK_ON_MALWARE and SESAME_LOCK_ON_SPAM_BURST", () => {
  const event = (type: string) => post("/api/v1/events", { type, address: maria.address }, auth);

  it("none: the event is recorded and locks nothing", async () => {
    t = await testApp({ SESAME_LOCK_ON_MALWARE: "none", SESAME_LOCK_ON_SPAM_BURST: "none" });
    await createAccount(t, maria);
    const { session } = (await signin(STRONG_PASSWORD)).json();
    expect((await event("malware_detected")).statusCode).toBe(202);
    expect((await event("spam_burst")).statusCode).toBe(202);
    expect((await account()).status).toBe("active");
    expect(await auditTypes()).toEqual(
      expect.arrayContaining(["event.malware_detected", "event.spam_burst"]),
    );
    expect(await auditTypes()).not.toContain("account.locked");
    expect((await get("/api/v1/session", { authorization: `Bearer ${session}` })).statusCode).toBe(200);
  });

  it("abuse: the event sets an abuse lock, which a recovery does not lift", async () => {
    t = await testApp({ SESAME_LOCK_ON_MALWARE: "abuse", SESAME_LOCK_ON_SPAM_BURST: "abuse" });
    await createAccount(t, maria);
    await createAccount(t, { address: "spammed@x.example" });
    const { session } = (await signin(STRONG_PASSWORD)).json();
    await event("malware_detected");
    await post("/api/v1/events", { type: "spam_burst", address: "spammed@x.example" }, auth);
    expect((await account()).lock.reason).toBe("abuse");
    expect((await account("spammed@x.example")).lock.reason).toBe("abuse");
    expect((await get("/api/v1/session", { authorization: `Bearer ${session}` })).statusCode).toBe(401);
    expect(await completeRecovery(maria.address, NEW_PASSWORD, null)).toBe("abuse");
    expect((await signin(NEW_PASSWORD)).json().error.lock.reason).toBe("abuse");
  });
});

describe("sessions", () => {
  beforeEach(async () => {
    t = await testApp();
    await createAccount(t, maria);
  });

  it("last 30 days", async () => {
    const { session } = (await signin(STRONG_PASSWORD)).json();
    const check = () => get("/api/v1/session", { authorization: `Bearer ${session}` });
    t.clock.advance(30 * DAY - 1);
    expect((await check()).statusCode).toBe(200);
    t.clock.advance(2);
    expect((await check()).json().error.code).toBe("ERR_SESSION_INVALID");
  });

  it("end with DELETE /api/v1/session", async () => {
    const { session } = (await signin(STRONG_PASSWORD)).json();
    const other = (await signin(STRONG_PASSWORD)).json().session;
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const signout = (headers: Record<string, string>) =>
      t.server.inject({ method: "DELETE", url: "/api/v1/session", headers });
    // Many clients name a JSON content type on every request, bodyless DELETE included.
    const ended = await signout({ ...bearer(session), "content-type": "application/json" });
    expect(ended.statusCode).toBe(204);
    expect(ended.body).toBe("");
    expect((await get("/api/v1/session", bearer(session))).statusCode).toBe(401);
    expect((await get("/api/v1/session", bearer(other))).statusCode).toBe(200);
    for (const headers of [bearer(session), bearer("nope"), {}]) {
      const refused = await signout(headers);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error.code).toBe("ERR_SESSION_INVALID");
    }
    expect(await auditTypes()).toContain("session.ended");
  });
});

describe("password history", () => {
  beforeEach(async () => {
    t = await testApp();
    await createAccount(t, maria);
  });

  const passwords = [
    "first copper lantern drifts north",
    "second velvet harbour hums softly",
    "third granite meadow sings loudly",
    "fourth amber railway sleeps early",
    "fifth silver orchard wakes slowly",
    "sixth marble compass points west",
  ];
  const check = async (password: string) => {
    const account = await t.app.services.accounts.findByAddress(maria.address);
    const checked = await t.app.services.accounts.checkNewPassword(account!, password, "en");
    return checked.ok ? "accepted" : checked.error.code;
  };

  it("refuses the current password and the previous five, not older ones", async () => {
    for (const password of passwords) await completeRecovery(maria.address, password, null);
    // Current: the sixth; previous five: STRONG_PASSWORD is now the sixth back, so it is allowed again.
    for (const password of passwords) expect(await check(password), password).toBe("ERR_PASSWORD_REUSED");
    expect(await check(STRONG_PASSWORD)).toBe("accepted");
    const kept = await t.database.db
      .selectFrom("password_history")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(kept.n)).toBe(5);
  });

  it("says so in the request's language", async () => {
    await completeRecovery(maria.address, NEW_PASSWORD, null);
    expect(await check(STRONG_PASSWORD)).toBe("ERR_PASSWORD_REUSED");
    const { translator } = await import("../platform/i18n.js");
    expect(translator("en")("error.ERR_PASSWORD_REUSED")).toMatch(/recent passwords/);
    expect(translator("fr")("error.ERR_PASSWORD_REUSED")).toMatch(/mots de passe récents/);
  });
});

describe("sign-in between nodes (PostgreSQL)", () => {
  /** A second server node on its own connection pool over the same database. */
  const secondNode = async () => {
    const database = t.database.openAnother();
    const node = await buildApp({ config: t.config, database, clock: t.clock, logger: false });
    await node.server.ready();
    return {
      server: node.server,
      close: async () => {
        await node.server.close();
        await database.close();
      },
    };
  };

  /**
   * A barrier made of a real lock: another connection takes a lock with `hold`, starts `work`,
   * waits until `waiting` backends are blocked by it, runs `then` (still holding), and commits.
   */
  const behindLock = async <T>(
    hold: (tx: Tx) => Promise<unknown>,
    waiting: number,
    work: () => Promise<T>,
    then: (tx: Tx) => Promise<unknown> = async () => {},
  ): Promise<T> => {
    const holder = t.database.openAnother();
    try {
      let started: Promise<T> | undefined;
      await holder.db.transaction().execute(async (tx) => {
        await hold(tx);
        const { rows: me } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
        started = (async () => await work())();
        // Polled from another connection: inside a transaction pg_stat_activity is a frozen snapshot.
        for (let polls = 0; polls < 5000; polls++) {
          const { rows } = await sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity
            where ${me[0]!.pid}::int = any(pg_blocking_pids(pid))`.execute(holder.db);
          if ((rows[0]?.n ?? 0) >= waiting) break;
        }
        await then(tx);
      });
      return await started!;
    } finally {
      await holder.close();
    }
  };

  beforeEach(async () => {
    t = await testApp();
    await createAccount(t, maria);
  });

  concurrencyTest("counts every one of 40 simultaneous failures from two nodes", async () => {
    const other = await secondNode();
    try {
      const nodes = [t.server, other.server];
      // All contenders check their password first, then meet at the throttle row together: one per
      // node at a time (each node queues sign-ins for one address in memory), so two are blocked.
      const answers = await behindLock(
        (tx) => sql`lock table signin_throttle in exclusive mode`.execute(tx),
        2,
        () =>
          Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              nodes[i % 2]!.inject({
                method: "POST",
                url: "/api/v1/signin",
                payload: { address: maria.address, password: `parallel-${i}` },
              }),
            ),
          ),
      );
      const statuses = answers.map((a) => a.statusCode);
      // Exactly the threshold fails before the throttle; every later one meets it.
      expect(statuses.filter((s) => s === 401)).toHaveLength(10);
      expect(statuses.filter((s) => s === 423)).toHaveLength(30);
      expect((await account()).lock).toMatchObject({
        reason: "brute_force",
        until: new Date(t.clock.now() + MINUTE).toISOString(),
      });
    } finally {
      await other.close();
    }
  });

  concurrencyTest("does not sign in with a password that was changed during the sign-in", async () => {
    const newHash = await hashPassword(NEW_PASSWORD);
    // The sign-in verifies the old password, then waits for maria's row, held as a recovery completing
    // at this moment holds it; the recovery sets the new password and commits.
    const attempt = await behindLock(
      (tx) => sql`select id from accounts where address = ${maria.address} for update`.execute(tx),
      1,
      () => signin(STRONG_PASSWORD),
      (tx) =>
        sql`update accounts set password_hash = ${newHash} where address = ${maria.address}`.execute(tx),
    );
    expect(attempt.statusCode).toBe(401);
    expect((await signin(NEW_PASSWORD)).statusCode).toBe(200);
  });
});
