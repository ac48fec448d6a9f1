import type { Transporter } from "nodemailer";
import type { OutboxRow, StoredHeaders } from "./outbox.js";

/** Delivers one message or throws; the dispatcher retries on a throw. */
export interface Transport {
  /** True when messages are only kept for the development mailbox. */
  readonly captured: boolean;
  send(message: OutboxRow): Promise<void>;
}

/** Without SMTP_URL / SMS_GATEWAY_URL, messages stay in the outbox and show on /dev/mailbox. */
export const captureTransport: Transport = { captured: true, send: async () => {} };

const isLoopback = (host: string) =>
  host === "localhost" || host.startsWith("127.") || host === "[::1]" || host === "::1";

/** The domain of the sender address, for Message-IDs ("Sesame <no-reply@x.example>" -> x.example). */
export const senderDomain = (from: string) => /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? "sesame.localhost";

const readHeaders = (row: OutboxRow): StoredHeaders => {
  if (!row.headers) return {};
  try {
    return JSON.parse(row.headers) as StoredHeaders;
  } catch {
    return {};
  }
};

/**
 * What nodemailer is given for one outbox row. Every mail is marked Auto-Submitted (RFC 3834), so
 * well-behaved responders never answer it; Message-ID is stable per row (a re-send after a crash
 * between the send and its record is the same message, which servers and clients deduplicate), and
 * signed when the mail is about a case.
 */
export function mailOptions(row: OutboxRow, from: string) {
  const domain = senderDomain(from);
  const headers = readHeaders(row);
  const messageId =
    headers.messageId ??
    (headers.signedLocal ? `<${headers.signedLocal}@${domain}>` : `<${row.id}@${domain}>`);
  return {
    from,
    to: row.recipient,
    subject: row.subject ?? "",
    text: row.body,
    messageId,
    ...(headers.inReplyTo ? { inReplyTo: headers.inReplyTo } : {}),
    ...(headers.references?.length ? { references: headers.references } : {}),
    ...(headers.replyTo ? { replyTo: headers.replyTo } : {}),
    headers: {
      "Auto-Submitted": headers.autoSubmitted === "auto-replied" ? "auto-replied" : "auto-generated",
      "X-Sesame-Message": row.id,
    },
  };
}

export function smtpTransport(smtpUrl: string, from: string): Transport {
  const { hostname } = new URL(smtpUrl);
  // nodemailer is loaded by the first mail sent: a node without SMTP_URL never loads it.
  let transporter: Promise<Transporter> | null = null;
  const create = async (): Promise<Transporter> => {
    const { default: nodemailer } = await import("nodemailer");
    // A relay on this machine often offers STARTTLS with a self-signed certificate; accept it there only.
    return nodemailer.createTransport(smtpUrl, {
      ...(isLoopback(hostname) ? { tls: { rejectUnauthorized: false } } : {}),
      connectionTimeout: 10_000,
      socketTimeout: 20_000,
    } as never);
  };
  return {
    captured: false,
    async send(message) {
      transporter ??= create().catch((error: unknown) => {
        transporter = null; // tried again with the next mail
        throw error;
      });
      await (await transporter).sendMail(mailOptions(message, from));
    },
  };
}

/**
 * SMS out: POST {to, body} as JSON to the configured gateway; any 2xx is a delivery. The outbox id
 * is the Idempotency-Key, so a gateway that honours it delivers a re-send after a crash only once.
 */
export function smsGatewayTransport(gatewayUrl: string): Transport {
  return {
    captured: false,
    async send(message) {
      const response = await fetch(gatewayUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": message.id },
        body: JSON.stringify({ to: message.recipient, body: message.body }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`SMS gateway answered ${response.status}`);
    },
  };
}
