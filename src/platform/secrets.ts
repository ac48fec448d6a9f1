import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/**
 * Tokens, one-time codes and their keyed hashes. Secrets are stored only as HMAC-SHA-256 under
 * SESAME_SECRET, so a copy of the database alone cannot replay them.
 */
export class Secrets {
  constructor(private readonly key: string) {}

  hmac(value: string): string {
    return createHmac("sha256", this.key).update(value).digest("base64url");
  }

  /** Constant-time check of a presented secret against a stored HMAC. */
  matches(presented: string, storedHmac: string | null): boolean {
    const expected = Buffer.from(storedHmac ?? this.hmac("\u0000no-secret"), "utf8");
    const actual = Buffer.from(this.hmac(presented), "utf8");
    return expected.length === actual.length && timingSafeEqual(expected, actual) && storedHmac !== null;
  }
}

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url");

export const sixDigitCode = (): string => randomInt(0, 1_000_000).toString().padStart(6, "0");

export const sha256 = (value: string): string => createHash("sha256").update(value).digest("hex");
