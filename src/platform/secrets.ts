import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto";
import { HmacSha256 } from "./hmac.js";
import { randomBytes } from "./random.js";

/**
 * Tokens, one-time codes and their keyed hashes. Secrets are stored only as HMAC-SHA-256 under
 * SESAME_SECRET, so a copy of the database alone cannot replay them.
 */
export class Secrets {
  private readonly sealKey: Buffer;
  private readonly mac: HmacSha256;

  constructor(key: string) {
    this.sealKey = createHmac("sha256", key).update("sesame:seal:v1").digest();
    this.mac = new HmacSha256(Buffer.from(key, "utf8"));
  }

  /** AES-256-GCM: for what must be read back later (queued messages, TOTP secrets, contact tokens), never logged. */
  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.sealKey, iv);
    const body = cipher.update(plaintext, "utf8");
    // GCM is a stream mode: final() adds no bytes, it computes the tag.
    cipher.final();
    return ["v1", iv, cipher.getAuthTag(), body]
      .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
      .join(".");
  }

  unseal(sealed: string): string {
    const [version, iv, tag, body] = sealed.split(".");
    if (version !== "v1" || !iv || !tag || body === undefined) throw new Error("not a sealed value");
    const decipher = createDecipheriv("aes-256-gcm", this.sealKey, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }

  hmac(value: string): string {
    return this.mac.digest(value, "base64url");
  }

  /** Constant-time check of a presented secret against a stored HMAC. */
  matches(presented: string, storedHmac: string | null): boolean {
    const expected = Buffer.from(storedHmac ?? this.hmac("\u0000no-secret"), "utf8");
    const actual = Buffer.from(this.hmac(presented), "utf8");
    return expected.length === actual.length && timingSafeEqual(expected, actual) && storedHmac !== null;
  }
}

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url");

export const sha256 = (value: string): string => createHash("sha256").update(value).digest("hex");
