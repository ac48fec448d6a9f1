import { createHmac, hash } from "node:crypto";

const BLOCK = 64;
/** Room after the key's block for a message of up to 4,096 UTF-16 units (3 bytes each at most in UTF-8). */
const ROOM = 3 * 4096;

/**
 * HMAC-SHA-256 (RFC 2104) under one key, for the short messages hashed on every request (eight a
 * code request, three a recovery start). Node's `createHmac` builds a stream object and sets the
 * key up on each call (1.5 µs alone, about 3 under load); here the key's two padded blocks are
 * made once, and a message costs two one-shot SHA-256 (0.8 µs). The output is createHmac's, which
 * a longer message still uses.
 */
export class HmacSha256 {
  /** The key XOR ipad, then the message. */
  private readonly inner = Buffer.alloc(BLOCK + ROOM);
  /** The key XOR opad, then the inner digest. */
  private readonly outer = Buffer.alloc(BLOCK + 32);

  constructor(private readonly key: Buffer) {
    const block = key.length > BLOCK ? hash("sha256", key, "buffer") : key;
    for (let i = 0; i < BLOCK; i++) {
      const byte = block[i] ?? 0;
      this.inner[i] = byte ^ 0x36;
      this.outer[i] = byte ^ 0x5c;
    }
  }

  digest(message: string, encoding: "base64url" | "hex"): string {
    if (message.length > ROOM / 3) return createHmac("sha256", this.key).update(message).digest(encoding);
    const end = BLOCK + this.inner.write(message, BLOCK, "utf8");
    this.outer.write(hash("sha256", this.inner.subarray(0, end), "binary"), BLOCK, "binary");
    // The message may be a token: it does not stay in this buffer until the next one.
    this.inner.fill(0, BLOCK, end);
    return hash("sha256", this.outer, encoding);
  }
}
