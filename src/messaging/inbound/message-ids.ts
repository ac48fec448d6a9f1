import { timingSafeEqual } from "node:crypto";
import { randomBytes } from "../../platform/random.js";
import type { Secrets } from "../../platform/secrets.js";

/** A case reference as newCaseRef makes it (platform/ids.ts alphabet: no 0/O, 1/I/L, U). */
export const CASE_REF_PATTERN = "SES-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}";
const REF = new RegExp(`^${CASE_REF_PATTERN}$`);
export const isCaseRef = (value: string): boolean => REF.test(value);

const SIG_LENGTH = 22; // 132 bits of HMAC-SHA-256, base64url
const NONCE = /^[A-Za-z0-9_-]{8,64}$/;

const signature = (secrets: Secrets, ref: string, nonce: string) =>
  secrets.hmac(`mail-message-id:${ref}.${nonce}`).slice(0, SIG_LENGTH);

/**
 * The local part of a signed Message-ID, `ref.nonce.sig`: only Sesame can make one, so a reply
 * naming it in In-Reply-To or References belongs to that case whoever sends it. The domain is not
 * signed (it follows MAIL_FROM, which may change).
 */
export function signedLocalPart(
  secrets: Secrets,
  ref: string,
  nonce = randomBytes(12).toString("base64url"),
) {
  if (!isCaseRef(ref)) throw new Error("not a case reference");
  if (!NONCE.test(nonce)) throw new Error("bad nonce");
  return `${ref}.${nonce}.${signature(secrets, ref, nonce)}`;
}

/** `<SES-ABCD-2345.nonce.sig@domain>` for outgoing mail about a case. */
export const signedMessageId = (secrets: Secrets, ref: string, domain: string, nonce?: string): string =>
  `<${signedLocalPart(secrets, ref, nonce)}@${domain}>`;

/** The local part of a Message-ID (`<local@domain>` or bare), or null when it has none. */
const localPart = (id: string): string | null => {
  const bare = id.trim().replace(/^<|>$/g, "");
  const at = bare.lastIndexOf("@");
  return at > 0 ? bare.slice(0, at) : null;
};

/** The case reference a signed Message-ID carries, or null for any id Sesame did not sign. */
export function refFromSignedId(secrets: Secrets, id: string): string | null {
  if (id.length > 300) return null;
  const local = localPart(id);
  if (local === null) return null;
  const parts = local.split(".");
  if (parts.length !== 3) return null;
  const [ref, nonce, sig] = parts as [string, string, string];
  if (!isCaseRef(ref) || !NONCE.test(nonce) || sig.length !== SIG_LENGTH) return null;
  const expected = Buffer.from(signature(secrets, ref, nonce));
  const presented = Buffer.from(sig);
  return expected.length === presented.length && timingSafeEqual(expected, presented) ? ref : null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uuidFromHex = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/**
 * The outbox row a Message-ID of Sesame's names: `<outbox-id@domain>`, or a signed id whose nonce
 * is the outbox id without dashes (see enqueueMessage). Null for anything else. Not proof alone:
 * the caller checks the row (its recipient) and, for signed ids, refFromSignedId.
 */
export function outboxIdFromMessageId(id: string): string | null {
  const local = localPart(id)?.toLowerCase() ?? null;
  if (local === null) return null;
  if (UUID.test(local)) return local;
  const nonce = local.split(".")[1];
  if (local.split(".").length === 3 && nonce !== undefined && /^[0-9a-f]{32}$/.test(nonce))
    return uuidFromHex(nonce);
  return null;
}
