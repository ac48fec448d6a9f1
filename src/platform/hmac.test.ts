import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HmacSha256 } from "./hmac.js";

const keys = {
  short: Buffer.from("k"),
  typical: Buffer.from("a".repeat(43)),
  "one block": randomBytes(64),
  "longer than a block (hashed first)": randomBytes(65),
  "long and not ASCII": Buffer.from("clé secrète 🔑".repeat(10)),
  empty: Buffer.alloc(0),
};

const messages = [
  "",
  "code:0190a1b2-0000-7000-8000-000000000000:123456",
  "cap:destination:marie@example.fr\u0000email\u0000marie.backup@example.be",
  "adresse:élodie@exemple.fr — 🔑",
  // A lone surrogate: both encode it as U+FFFD.
  "broken \ud800 pair",
  "x".repeat(4096),
  "é".repeat(4096),
  "😀".repeat(2048),
  // Past the room of the fast path: createHmac's own.
  "x".repeat(4097),
  "é".repeat(8000),
  "é".repeat(20000),
];

describe("HMAC-SHA-256 under one key", () => {
  for (const [name, key] of Object.entries(keys))
    it(`gives createHmac's output (key: ${name})`, () => {
      const mac = new HmacSha256(key);
      for (const encoding of ["base64url", "hex"] as const)
        for (const message of messages)
          expect(mac.digest(message, encoding)).toBe(
            createHmac("sha256", key).update(message).digest(encoding),
          );
    });

  it("leaves nothing of a message for the next one (a long message, then shorter ones)", () => {
    const key = randomBytes(32);
    const mac = new HmacSha256(key);
    for (let length = 900; length >= 0; length -= 37) {
      const message = String.fromCharCode(97 + (length % 26)).repeat(length);
      expect(mac.digest(message, "hex")).toBe(createHmac("sha256", key).update(message).digest("hex"));
    }
  });

  it("keeps no copy of the message once hashed", () => {
    const mac = new HmacSha256(randomBytes(32));
    mac.digest("recovery-link:SECRET-TOKEN-4fj3k", "base64url");
    const inner = (mac as unknown as { inner: Buffer }).inner;
    expect(inner.includes("SECRET-TOKEN")).toBe(false);
  });
});
