import { describe, expect, it } from "vitest";
import { freshDatabase } from "../../test/helpers.js";
import { ConfigError, loadConfig } from "../config.js";
import { appendAudit, verifyAuditChain } from "./audit.js";
import { fromAcceptLanguage, pickLocale } from "./i18n.js";
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
    expect(config.rules).toMatchObject({
      bruteForceThreshold: 10,
      bruteForceFirstLockMs: 60_000,
      bruteForceMaxLockMs: 900_000,
    });
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

  it("makes references easy to dictate and recovery ids that hold no digits", () => {
    const refs = new Set(Array.from({ length: 500 }, newCaseRef));
    expect(refs.size).toBe(500);
    for (const ref of refs) expect(ref).toMatch(/^SES-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/);
    expect(newRecoveryId()).toMatch(/^rc_[a-zA-Z]{24}$/);
  });
});

describe("audit log", () => {
  it("chains entries so that an edit shows", async () => {
    const database = await freshDatabase();
    try {
      const { db, dialect } = database;
      for (const [i, type] of ["account.locked", "recovery.started", "account.unlocked"].entries()) {
        await db
          .transaction()
          .execute((tx) =>
            appendAudit(tx, dialect, 1000 + i, "account:x", { type, actor: "test", accountId: "x" }),
          );
      }
      expect(await verifyAuditChain(db, "account:x")).toBeNull();
      await db.updateTable("audit_log").set({ actor: "someone else" }).where("seq", "=", 2).execute();
      expect(await verifyAuditChain(db, "account:x")).toBe(2);
    } finally {
      await database.drop();
    }
  });
});
