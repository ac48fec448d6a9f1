import { createHmac, hash } from "node:crypto";

const BLOCK = 64;
/** Room in the buffer after the key's block for a message of up to 4,096 UTF-16 units (3 bytes each at most in UTF-8). */
const ROOM = 3 * 4096;

/**
 * HMAC-SHA-256 (RFC 2104) under one key, for the short messages hashed on every request (eight a
 * code request, three a recovery start). Node's `createHmac` builds a stream object and sets the
 * key up on each call (1.5 µs alone, about 3 under load); here the key's two padded blocks are
 * made once, and a message costs two one-shot SHA-256 (0.8 µs). The output is createHmac's, which
 * a message too long for the buffer still uses (a key that is not ASCII).
 */
export class HmacSha256 {
  /**
   * The key XOR ipad as text, when the key is ASCII (SESAME_SECRET usually is): UTF-8 leaves it as
   * it is, so the block and the message go to the hash as one string, with no buffer to fill and
   * wipe (0.8 against 1.0 µs).
   */
  private readonly innerBlockText: string | null;
  /** Otherwise: the key XOR ipad, then the message. */
  private readonly inner: Buffer;
  /** The key XOR opad, then the inner digest. */
  private readonly outer = Buffer.alloc(BLOCK + 32);

  constructor(private readonly key: Buffer) {
    const block = key.length > BLOCK ? hash("sha256", key, "buffer") : key;
    const ascii = block.every((byte) => byte < 0x80);
    this.inner = Buffer.alloc(ascii ? BLOCK : BLOCK + ROOM);
    for (let i = 0; i < BLOCK; i++) {
      const byte = block[i] ?? 0;
      this.inner[i] = byte ^ 0x36;
      this.outer[i] = byte ^ 0x5c;
    }
    this.innerBlockText = ascii ? this.inner.toString("latin1") : null;
  }

  digest(message: string, encoding: "base64url" | "hex"): string {
    let innerDigest: string;
    if (this.innerBlockText !== null) innerDigest = hash("sha256", this.innerBlockText + message, "binary");
    else {
      if (message.length > ROOM / 3) return createHmac("sha256", this.key).update(message).digest(encoding);
      const end = BLOCK + this.inner.write(message, BLOCK, "utf8");
      innerDigest = hash("sha256", this.inner.subarray(0, end), "binary");
      // The message may be a token: it does not stay in this buffer until the next one.
      this.inner.fill(0, BLOCK, end);
    }
    this.outer.write(innerDigest, BLOCK, "binary");
    return hash("sha256", this.outer, encoding);
  }
}
