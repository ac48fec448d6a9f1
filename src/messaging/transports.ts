import nodemailer from "nodemailer";
import type { OutboxRow } from "./outbox.js";

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

export function smtpTransport(smtpUrl: string, from: string): Transport {
  const { hostname } = new URL(smtpUrl);
  // A relay on this machine often offers STARTTLS with a self-signed certificate; accept it there only.
  const transporter = nodemailer.createTransport(smtpUrl, {
    ...(isLoopback(hostname) ? { tls: { rejectUnauthorized: false } } : {}),
    connectionTimeout: 10_000,
    socketTimeout: 20_000,
  } as never);
  return {
    captured: false,
    async send(message) {
      await transporter.sendMail({
        from,
        to: message.recipient,
        subject: message.subject ?? "",
        text: message.body,
        headers: { "X-Sesame-Message": message.id },
      });
    },
  };
}

/** SMS out: POST {to, body} as JSON to the configured gateway; any 2xx is a delivery. */
export function smsGatewayTransport(gatewayUrl: string): Transport {
  return {
    captured: false,
    async send(message) {
      const response = await fetch(gatewayUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ to: message.recipient, body: message.body }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`SMS gateway answered ${response.status}`);
    },
  };
}
