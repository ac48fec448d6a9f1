import type { Secrets } from "../platform/secrets.js";

/**
 * A one-time code's message. The code's six digits and its link's token are derived from the code
 * row's id under SESAME_SECRET, so the outbox keeps the message with markers in their place and the
 * dispatcher fills them in when it sends it: the database alone holds no code, as when the message
 * was sealed, and a code request no longer pays for a seal (AES-GCM through Node, 10 µs: a
 * twentieth of the request) nor the dispatcher for its opening. A MAC over the message and where it
 * goes keeps someone who can write the database but lacks the secret from changing either: the
 * code is then sent only as and where it was queued.
 */
// In the Private Use Area: never in a translation, and PostgreSQL's text refuses NUL. Were one in an
// address the message quotes, it would show the code to whom the message goes anyway.
export const CODE_MARK = "\ue000code\ue000";
export const LINK_TOKEN_MARK = "\ue000link-token\ue000";

export interface CodeSecrets {
  /** Six digits. */
  code: string;
  /** 256 bits, base64url. */
  linkToken: string;
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Keyed by labels that no other HMAC of the secret uses. Unpredictable without the secret; unique per code row. */
export function codeSecretsOf(secrets: Secrets, codeId: string): CodeSecrets {
  const draw = secrets.hmac(`code-digits:${codeId}`);
  // 48 bits (8 characters) modulo 10^6: each code is as likely as another to within 10^6 / 2^48.
  let bits = 0;
  for (let i = 0; i < 8; i++) bits = bits * 64 + BASE64URL.indexOf(draw[i]!);
  return {
    code: String(bits % 1_000_000).padStart(6, "0"),
    linkToken: secrets.hmac(`code-link:${codeId}`),
  };
}

/** What the MAC of a stored code message covers. */
export interface CodeMessageFields {
  id: string;
  codeId: string;
  channel: string;
  recipient: string;
  subject: string | null;
}

const TEMPLATE = "m1.";

const macInput = (fields: CodeMessageFields, text: string) =>
  `outbox-code-message:${fields.id}\u0000${fields.codeId}\u0000${fields.channel}\u0000${fields.recipient}\u0000${fields.subject ?? ""}\u0000${text}`;

/** The body as stored: `m1.<MAC>.<text with the markers>`. */
export const storedCodeMessage = (secrets: Secrets, fields: CodeMessageFields, text: string): string =>
  `${TEMPLATE}${secrets.hmac(macInput(fields, text))}.${text}`;

export const isStoredCodeMessage = (body: string): boolean => body.startsWith(TEMPLATE);

/** The text to send, its code and link filled in; throws if the row was changed since it was queued. */
export function openCodeMessage(secrets: Secrets, fields: CodeMessageFields, body: string): string {
  const dot = body.indexOf(".", TEMPLATE.length);
  if (!isStoredCodeMessage(body) || dot < 0) throw new Error("not a stored code message");
  const text = body.slice(dot + 1);
  if (!secrets.matches(macInput(fields, text), body.slice(TEMPLATE.length, dot)))
    throw new Error("code message altered");
  const { code, linkToken } = codeSecretsOf(secrets, fields.codeId);
  return text.replaceAll(CODE_MARK, code).replaceAll(LINK_TOKEN_MARK, linkToken);
}
