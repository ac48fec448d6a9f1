import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { concurrencyTest, freshDatabase } from "../../test/helpers.js";
import { ConfigError, loadConfig } from "../config.js";
import { lockKey } from "../db/database.js";
import { appendAudit, auditKey, verifyAllChains, verifyAuditChain } from "./audit.js";
import { fromAcceptLanguage, locales, pickLocale, translator } from "./i18n.js";
import { newCaseRef, newRecoveryId } from "./ids.js";
import { de } from "./locales/de.js";
import { en } from "./locales/en.js";
import { fr } from "./locales/fr.js";
import { nl } from "./locales/nl.js";
import { Secrets } from "./secrets.js";

describe("configuration", () => {
  const base = { SESAME_SECRET: "s".repeat(32), DATABASE_URL: "sqlite::memory:" };

  it("has documented defaults", () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      port: 3000,
      clock: "system",
      smtpUrl: null,
      smsGatewayUrl: null,
      seed: null,
    });
    expect(config.limits).toMatchObject({ codesPerAccountPerHour: 5, triesPerCode: 5, perIpPerMinute: 300 });
    expect(config.hashThreads).toBe(availableParallelism());
    expect(loadConfig({ ...base, SESAME_HASH_THREADS: "1" }).hashThreads).toBe(1);
    expect(config.rules).toMatchObject({
      bruteForceThreshold: 10,
      bruteForceFirstLockMs: 60_000,
      bruteForceMaxLockMs: 900_000,
    });
    expect(loadConfig({ ...base, DATABASE_URL: "sqlite:/tmp/x.db" }).database).toEqual({
      kind: "sqlite",
      path: "/tmp/x.db",
      coalesceWal: true,
    });
    expect(
      loadConfig({ ...base, DATABASE_URL: "sqlite:/tmp/x.db", SQLITE_COALESCE_WAL: "off" }).database,
    ).toMatchObject({ coalesceWal: false });
    expect(loadConfig({ ...base, DATABASE_URL: "postgres://u@h/db" }).database).toEqual({
      kind: "postgres",
      url: "postgres://u@h/db",
    });
  });

  it("refuses bad values with a message naming the setting", () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: "http" }, /PORT/],
      [{ PORT: "70000" }, /PORT/],
      [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL/],
      [{ SMTP_URL: "not a url" }, /SMTP_URL/],
      [{ SMS_GATEWAY_URL: "ftp://x" }, /SMS_GATEWAY_URL/],
      [{ SESAME_CLOCK: "sundial" }, /SESAME_CLOCK/],
      [{ SESAME_SECRET: "short" }, /SESAME_SECRET/],
      [{ SESAME_RATE_LIMIT_PER_IP: "-1" }, /SESAME_RATE_LIMIT_PER_IP/],
      [{ SESAME_HASH_THREADS: "0" }, /SESAME_HASH_THREADS/],
      [{ SQLITE_COALESCE_WAL: "no" }, /SQLITE_COALESCE_WAL/],
      [{ NODE_ENV: "production", SESAME_SECRET: "" }, /SESAME_SECRET is required/],
      [{ NODE_ENV: "production", SESAME_CLOCK: "manual" }, /refused in production/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadConfig({ ...base, ...env }), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...env })).toThrow(message);
    }
    expect(loadConfig({ ...base, SESAME_RATE_LIMIT_PER_IP: "0" }).limits.perIpPerMinute).toBe(0);
  });
});

describe("languages", () => {
  it("has every English key, with the same placeholders, in French, Dutch and German", () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const catalogue of [fr, nl, de]) {
      expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(en)) {
        expect(placeholders(catalogue[key as keyof typeof en]), key).toEqual(placeholders(text));
      }
    }
  });

  it("fills each placeholder of every message, every time it appears, and leaves one without a value as it is", () => {
    const catalogues = { en, fr, nl, de };
    let filled = 0;
    for (const locale of locales) {
      const t = translator(locale);
      for (const [key, text] of Object.entries(catalogues[locale])) {
        const names = [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
        // Every other name gets a value, one that looks like a placeholder itself (never expanded).
        const params = Object.fromEntries(
          names.filter((_, i) => i % 2 === 0).map((n) => [n, `<${n}:{${n}}>`]),
        );
        const expected = text.replace(/\{(\w+)\}/g, (whole, name: string) =>
          name in params ? String(params[name]) : whole,
        );
        // Twice: the second call reads the message's parts kept from the first.
        expect(t(key as keyof typeof en, params), key).toBe(expected);
        expect(t(key as keyof typeof en, params), key).toBe(expected);
        filled += names.length;
      }
    }
    expect(filled).toBeGreaterThan(100);
    expect(
      translator("en")("mail.code.body", { code: "123456", link: "L", account: "a@b.example" }),
    ).toContain("123456");
  });

  it("picks the URL's language, then the account's, then Accept-Language", () => {
    expect(fromAcceptLanguage("de;q=0.3, nl-BE;q=0.8, xx")).toBe("nl");
    expect(pickLocale("fr", "nl", "de")).toBe("fr");
    expect(pickLocale(undefined, "nl", "de")).toBe("nl");
    expect(pickLocale("klingon", null, fromAcceptLanguage("de-AT"))).toBe("de");
    expect(pickLocale(null, null, null)).toBe("en");
  });
});

describe("secrets and ids", () => {
  it("checks secrets against their HMAC only", () => {
    const secrets = new Secrets("k".repeat(32));
    const stored = secrets.hmac("code:1:123456");
    expect(secrets.matches("code:1:123456", stored)).toBe(true);
    expect(secrets.matches("code:1:123457", stored)).toBe(false);
    expect(secrets.matches("code:1:123456", null)).toBe(false);
    expect(new Secrets("other-key".repeat(4)).matches("code:1:123456", stored)).toBe(false);
  });

  it("seals what must be read back: only its key opens it, whole and unaltered, never the same twice", () => {
    const secrets = new Secrets("k".repeat(32));
    for (const text of ["", "123456", `Votre code : 123456 — ${"é".repeat(300)} 🔑`]) {
      const sealed = secrets.seal(text);
      expect(sealed).not.toContain("123456");
      expect(secrets.unseal(sealed)).toBe(text);
      expect(secrets.seal(text)).not.toBe(sealed);
      expect(() => new Secrets("other-key".repeat(4)).unseal(sealed)).toThrow();
      // One changed character of the ciphertext, or a shorter one: refused by the tag.
      const [version, iv, tag, body] = sealed.split(".") as [string, string, string, string];
      const flipped = Buffer.from(body, "base64url");
      if (flipped.length > 0) {
        flipped[0]! ^= 1;
        expect(() => secrets.unseal([version, iv, tag, flipped.toString("base64url")].join("."))).toThrow();
        const cut = Buffer.from(body, "base64url").subarray(1).toString("base64url");
        expect(() => secrets.unseal([version, iv, tag, cut].join("."))).toThrow();
      }
    }
  });

  it("makes references easy to dictate and recovery ids that hold no digits", () => {
    const refs = new Set(Array.from({ length: 500 }, newCaseRef));
    expect(refs.size).toBe(500);
    for (const ref of refs) expect(ref).toMatch(/^SES-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/);
    expect(newRecoveryId()).toMatch(/^rc_[a-z]{9}[a-zA-Z]{24}$/);
  });

  it("makes recovery ids that sort as they were started, random after their time", () => {
    // Every value of each of the time's last letters, across years.
    const times = Array.from({ length: 3000 }, (_, i) => 1_700_000_000_000 + i * 7_919 + i * i * 104_729);
    const ids = times.map((ms) => newRecoveryId(ms));
    expect([...ids].sort()).toEqual(ids);
    const sameMs = new Set(Array.from({ length: 500 }, () => newRecoveryId(1_800_000_000_000)));
    expect(sameMs.size).toBe(500);
    for (const id of sameMs) expect(id.slice(0, 12)).toBe(newRecoveryId(1_800_000_000_000).slice(0, 12));
  });
});

describe("audit log", () => {
  const key = auditKey("audit-test-secret-0123456789abcdefghij");
  const append = (
    database: { db: import("../db/database.js").Db; dialect: "sqlite" | "postgres" },
    stream: string,
    types: string[],
  ) =>
    database.db.transaction().execute(async (tx) => {
      for (const [i, type] of types.entries())
        await appendAudit(tx, database.dialect, key, 1000 + i, stream, {
          type,
          actor: "test",
          accountId: "x",
        });
    });

  it("chains entries so that an edit shows", async () => {
    const database = await freshDatabase();
    try {
      const { db } = database;
      await append(database, "account:x", ["account.locked", "recovery.started", "account.unlocked"]);
      expect(await verifyAuditChain(db, "account:x", key)).toBeNull();
      await db.updateTable("audit_log").set({ actor: "someone else" }).where("seq", "=", 2).execute();
      expect(await verifyAuditChain(db, "account:x", key)).toBe(2);
      const { problems } = await verifyAllChains(db, key);
      expect(problems).toEqual([{ stream: "account:x", kind: "broken", seq: 2 }]);
    } finally {
      await database.drop();
    }
  });

  it("detects a deleted tail, or a rewritten one, against the heads saved before", async () => {
    const database = await freshDatabase();
    try {
      const { db } = database;
      await append(database, "account:x", ["account.locked", "recovery.started", "account.unlocked"]);
      await append(database, "account:y", ["account.locked"]);
      const before = await verifyAllChains(db, key);
      expect(before.problems).toEqual([]);
      expect(before.heads.map((h) => [h.stream, h.seq])).toEqual([
        ["account:x", 3],
        ["account:y", 1],
      ]);
      // Growing is fine: the saved heads are still there.
      await append(database, "account:y", ["account.unlocked"]);
      expect((await verifyAllChains(db, key, before.heads)).problems).toEqual([]);

      // The last entry of x goes: what remains is a valid chain, only the saved head tells.
      await db.deleteFrom("audit_log").where("stream", "=", "account:x").where("seq", "=", 3).execute();
      expect(await verifyAuditChain(db, "account:x", key)).toBeNull();
      expect((await verifyAllChains(db, key, before.heads)).problems).toEqual([
        { stream: "account:x", kind: "tail_missing", savedSeq: 3, currentSeq: 2 },
      ]);
      // Whoever holds the key could re-append a different seq 3: the saved hash still tells.
      await append(database, "account:x", ["account.note"]);
      expect((await verifyAllChains(db, key, before.heads)).problems).toEqual([
        { stream: "account:x", kind: "head_replaced", seq: 3 },
      ]);
      // A whole chain deleted.
      await db.deleteFrom("audit_log").where("stream", "=", "account:y").execute();
      expect((await verifyAllChains(db, key, before.heads)).problems).toContainEqual({
        stream: "account:y",
        kind: "chain_missing",
        savedSeq: 1,
      });
    } finally {
      await database.drop();
    }
  });

  concurrencyTest("keeps one intact chain when several nodes append to it at once", async () => {
    const database = await freshDatabase();
    const nodes = [database, ...Array.from({ length: 3 }, () => database.openAnother())];
    try {
      // 60 use-cases on 4 nodes, some appending twice, all to one chain at the same moment.
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) =>
          append(nodes[i % nodes.length]!, "account:x", i % 3 === 0 ? [`a${i}`, `b${i}`] : [`a${i}`]),
        ),
      );
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      const rows = await database.db
        .selectFrom("audit_log")
        .select(["seq", "type"])
        .where("stream", "=", "account:x")
        .orderBy("seq")
        .execute();
      // Every entry committed, each once, numbered without a gap, and the chain verifies.
      expect(rows).toHaveLength(80);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.type)).size).toBe(80);
      expect(await verifyAuditChain(database.db, "account:x", key)).toBeNull();
    } finally {
      for (const node of nodes.slice(1)) await node.close();
      await database.drop();
    }
  });

  concurrencyTest(
    "queues a writer that lost a race on the chain's lock instead of retrying at once",
    async () => {
      const database = await freshDatabase();
      const [second, third] = [database.openAnother(), database.openAnother()];
      const entry = (type: string) => ({ type, actor: "test", accountId: "x" });
      const signal = () => {
        let fire!: () => void;
        return { done: new Promise<void>((resolve) => (fire = resolve)), fire: () => fire() };
      };
      const [aAppended, aMayCommit, bLocked, bMayCommit] = [signal(), signal(), signal(), signal()];
      let cPid = 0;
      const cWaitsOn = async (event: string) => {
        for (let i = 0; i < 500; i++) {
          const { rows } = await sql<{ wait_event: string | null }>`
          select wait_event from pg_stat_activity where pid = ${cPid}`.execute(database.db);
          if (rows[0]?.wait_event === event) return true;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return false;
      };
      try {
        // A adds seq 1 and keeps it uncommitted; B holds the chain's lock.
        const a = database.db.transaction().execute(async (tx) => {
          await appendAudit(tx, "postgres", key, 1, "account:x", entry("a"));
          aAppended.fire();
          await aMayCommit.done;
        });
        await aAppended.done;
        const b = second.db.transaction().execute(async (tx) => {
          await lockKey(tx, "postgres", "audit:account:x");
          bLocked.fire();
          await bMayCommit.done;
        });
        await bLocked.done;
        // C reads the chain before A commits, so its seq 1 waits for A's.
        let cDone = false;
        const c = third.db
          .transaction()
          .execute(async (tx) => {
            cPid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
            await appendAudit(tx, "postgres", key, 2, "account:x", entry("c"));
          })
          .then(() => {
            cDone = true;
          });
        while (cPid === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(await cWaitsOn("transactionid")).toBe(true);
        // A wins the race: C lost it, and now waits for the chain's lock (held by B) before it reads again.
        aMayCommit.fire();
        await a;
        expect(await cWaitsOn("advisory")).toBe(true);
        expect(cDone).toBe(false);
        bMayCommit.fire();
        await Promise.all([b, c]);
        const rows = await database.db
          .selectFrom("audit_log")
          .select(["seq", "type"])
          .where("stream", "=", "account:x")
          .orderBy("seq")
          .execute();
        expect(rows).toEqual([
          { seq: 1, type: "a" },
          { seq: 2, type: "c" },
        ]);
        expect(await verifyAuditChain(database.db, "account:x", key)).toBeNull();
      } finally {
        aMayCommit.fire();
        bMayCommit.fire();
        await second.close();
        await third.close();
        await database.drop();
      }
    },
  );

  it("refuses a chain forged without the key (recomputed with plain SHA-256)", async () => {
    const database = await freshDatabase();
    try {
      const { db } = database;
      await append(database, "account:x", ["account.locked", "recovery.started"]);
      // Someone with write access rewrites the actor and recomputes every hash, as the unkeyed chain allowed.
      const rows = await db
        .selectFrom("audit_log")
        .selectAll()
        .where("stream", "=", "account:x")
        .orderBy("seq")
        .execute();
      let prev = "0".repeat(64);
      for (const r of rows) {
        const hash = createHash("sha256")
          .update(JSON.stringify([prev, r.stream, r.seq, Number(r.at), r.type, "nobody", r.detail]))
          .digest("hex");
        await db
          .updateTable("audit_log")
          .set({ actor: "nobody", prev_hash: prev, hash })
          .where("stream", "=", r.stream)
          .where("seq", "=", r.seq)
          .execute();
        prev = hash;
      }
      expect(await verifyAuditChain(db, "account:x", key)).toBe(1);
      // And a chain keyed with another secret does not pass either.
      await append(database, "account:z", ["account.locked"]);
      expect(await verifyAuditChain(db, "account:z", auditKey("another-secret-0123456789abcdefghijkl"))).toBe(
        1,
      );
    } finally {
      await database.drop();
    }
  });
});
