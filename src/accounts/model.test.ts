import fc from "fast-check";
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { MINUTE } from "../platform/clock.js";
import {
  type AccountRow,
  activeLock,
  knownDeviceAfterFailure,
  lockDurationMs,
  lockMayReplace,
  maskEmail,
  maskPhone,
  normalizeEmail,
  normalizePhone,
  type ThrottleRow,
  throttleAfterFailure,
  throttleLock,
} from "./model.js";
import { passwordStrength, withoutPersonalWords } from "./passwords.js";

const rules = loadConfig({ SESAME_SECRET: "x".repeat(32), DATABASE_URL: "sqlite::memory:" }).rules;

const account = (changes: Partial<AccountRow> = {}): AccountRow => ({
  id: "a",
  address: "a@b.example",
  password_hash: "h",
  display_name: null,
  locale: "fr",
  country: "BE",
  lock_reason: null,
  lock_since: null,
  lock_until: null,
  lock_note: null,
  password_changed_at: 0,
  created_at: 0,
  updated_at: 0,
  ...changes,
});

describe("addresses and numbers", () => {
  it("normalises email addresses and rejects what is not one", () => {
    expect(normalizeEmail("  Maria-Rosa@Hotmail.Example ")).toBe("maria-rosa@hotmail.example");
    for (const bad of ["", "maria", "a@b", "a b@c.example", "<a@b.example>", "a@b.example,c@d.example"])
      expect(normalizeEmail(bad)).toBeNull();
  });

  it("reads phone numbers in the account's country", () => {
    expect(normalizePhone("0470 12 34 56", "BE")).toBe("+32470123456");
    expect(normalizePhone("+32 470 12 34 56", null)).toBe("+32470123456");
    expect(normalizePhone("0470 12 34 56", null)).toBeNull();
    expect(normalizePhone("12", "BE")).toBeNull();
  });

  it("keeps one form of an address: NFC, no trailing dot, no invisible characters", () => {
    const nfc = "jos\u00e9@x.example";
    expect(normalizeEmail("jose\u0301@x.example")).toBe(nfc);
    expect(normalizeEmail("JOSE\u0301@X.example.")).toBe(nfc);
    // Lower-casing can undo NFC (capital iota with dialytika, then an acute): normalised again after.
    const greek = normalizeEmail("\u03aa\u0301@x.example")!;
    expect(greek).toBe(greek.normalize("NFC"));
    expect(normalizeEmail("\u03ca\u0301@x.example")).toBe(greek);
    for (const invisible of [
      "jos\u00e9\u200b@x.example", // zero-width space
      "jos\u00e9@x\u200c.example", // zero-width non-joiner
      "\u202ejos\u00e9@x.example", // right-to-left override
      "jos\u00e9\u2066@x.example", // left-to-right isolate
      "jos\u00e9\u00ad@x.example", // soft hyphen
      "\ufeffjos\u00e9@x.example", // byte order mark
      "jos\u00e9\u0000@x.example",
      "\ud800zz@x.example", // a lone surrogate: PostgreSQL would store U+FFFD
      "a@b..example",
      "a@b.example..",
    ])
      expect(normalizeEmail(invisible), JSON.stringify(invisible)).toBeNull();
  });

  it("masks mail and phone alike, grouped as they are written", () => {
    expect(maskEmail("maria-rosa@gmail.example")).toBe("m••••a@g•••l.example");
    // No typed text survives in a mask, in any label but the last.
    expect(maskEmail("x@win.call-0800-555-0199.evil-prize.example")).toBe("•@w•n.c••••9.e••••e.example");
    expect(maskPhone("+32470123456")).toBe("+32 4•• •• •• 56");
    expect(maskPhone("+33612345678")).toBe("+33 6 •• •• •• 78");
  });

  it("shows at most the first and last character of the local part and of the domain's first label", () => {
    const shape = (part: string, masked: string) => {
      const chars = [...part];
      const visible = [...masked].filter((c) => c !== "•");
      if (chars.length <= 1) return masked === "•";
      if (visible[0] !== chars[0] || !masked.includes("•")) return false;
      return chars.length === 2 ? visible.length === 1 : visible.length === 2 && visible[1] === chars.at(-1);
    };
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        const masked = maskEmail(address);
        const [local, domain] = [address.slice(0, address.lastIndexOf("@")), address.split("@").at(-1)!];
        const [maskedLocal, maskedDomain] = [
          masked.slice(0, masked.lastIndexOf("@")),
          masked.split("@").at(-1)!,
        ];
        const labels = domain.split(".");
        const maskedLabels = maskedDomain.split(".");
        return (
          shape(local, maskedLocal) &&
          maskedLabels.length === labels.length &&
          labels.slice(0, -1).every((label, i) => shape(label, maskedLabels[i]!)) &&
          maskedLabels.at(-1) === labels.at(-1)
        );
      }),
      { numRuns: 1000 },
    );
  });

  it("shows at most the country code, one national digit and the last two digits of a phone", () => {
    const countries = ["BE", "FR", "NL", "DE", "LU", "MA", "GB", "US"] as const;
    fc.assert(
      fc.property(fc.constantFrom(...countries), fc.stringMatching(/^[1-9]\d{5,11}$/), (country, digits) => {
        const e164 = normalizePhone(digits, country);
        fc.pre(e164 !== null);
        const parsed = parsePhoneNumberFromString(e164!)!;
        const countryCode = `+${parsed.countryCallingCode}`;
        const national = parsed.nationalNumber;
        const masked = maskPhone(e164!);
        const visibleNational = masked.slice(countryCode.length).replace(/\D/g, "");
        // At most the first and the last two national digits; all three once the number is long enough.
        const allowed = `${national[0]}${national.slice(-2)}`;
        return (
          masked.startsWith(`${countryCode} `) &&
          allowed.endsWith(visibleNational) &&
          (national.length < 6 || visibleNational === allowed) &&
          masked.replace(/[^\d•]/g, "").length === e164!.length - 1
        );
      }),
      { numRuns: 1000 },
    );
  });
});

const throttle = (changes: Partial<ThrottleRow> = {}): ThrottleRow => ({
  key_hash: "k",
  failures: 0,
  window_start: null,
  level: 0,
  locked_since: null,
  locked_until: null,
  updated_at: 0,
  ...changes,
});

describe("brute_force throttle", () => {
  it("locks at the threshold within the window only", () => {
    let state = throttle();
    for (let i = 1; i < rules.bruteForceThreshold; i++) {
      const next = throttleAfterFailure(state, 1000 * i, rules);
      expect(next.locked).toBe(false);
      state = { ...state, ...next };
    }
    const last = throttleAfterFailure(state, 20_000, rules);
    expect(last).toMatchObject({
      locked: true,
      locked_since: 20_000,
      locked_until: 20_000 + MINUTE,
      failures: 0,
      level: 1,
    });
    expect(throttleLock({ ...state, ...last }, 20_000 + MINUTE - 1)?.reason).toBe("brute_force");
    expect(throttleLock({ ...state, ...last }, 20_000 + MINUTE)).toBeNull();

    // The same failures spread beyond the window never lock.
    let slow = throttle();
    for (let i = 0; i < 30; i++) {
      const next = throttleAfterFailure(slow, i * rules.bruteForceWindowMs, rules);
      expect(next.locked).toBe(false);
      slow = { ...slow, ...next };
    }
  });

  it("never locks longer than the maximum, never shorter than the first lock", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (level) => {
        const ms = lockDurationMs(level, rules);
        return ms >= rules.bruteForceFirstLockMs && ms <= rules.bruteForceMaxLockMs;
      }),
    );
  });

  it("forgets a known device at 3 times the threshold, within the window", () => {
    let device = { failed_signins: 0, failed_window_start: null as number | null };
    for (let i = 1; i < 3 * rules.bruteForceThreshold; i++) {
      const next = knownDeviceAfterFailure(device, i, rules);
      expect(next.forget, `failure ${i}`).toBe(false);
      device = next;
    }
    expect(knownDeviceAfterFailure(device, 100, rules).forget).toBe(true);
    expect(knownDeviceAfterFailure(device, rules.bruteForceWindowMs + 1, rules).forget).toBe(false);
  });

  it("orders locks admin > abuse > compromise > brute_force, and never lowers one", () => {
    const order = ["brute_force", "compromise", "abuse", "admin"] as const;
    for (const [i, current] of order.entries())
      for (const [j, asked] of order.entries())
        expect(lockMayReplace(current, asked), `${current}<-${asked}`).toBe(j >= i);
    for (const asked of order) expect(lockMayReplace(null, asked)).toBe(true);
  });

  it("treats a lock past its end as no lock", () => {
    const locked = account({ lock_reason: "compromise", lock_since: 0, lock_until: MINUTE });
    expect(activeLock(locked, MINUTE - 1)?.reason).toBe("compromise");
    expect(activeLock(locked, MINUTE)).toBeNull();
  });
});

describe("password strength", () => {
  it("refuses common, short and personal passwords", async () => {
    const personal = ["maria-rosa@hotmail.example", "maria", "rosa", "hotmail"];
    for (const weak of [
      "password1",
      "azerty123",
      "Maria-Rosa-Hotmail",
      "hotmail.maria.rosa",
      "Wachtwoord1",
    ]) {
      expect((await passwordStrength(weak, personal)).strong, weak).toBe(false);
    }
    expect((await passwordStrength("violet tractor mirrors quietly 1987", personal)).strong).toBe(true);
    expect(withoutPersonalWords("Maria_Rosa!", personal)).toBe("");
  });
});
