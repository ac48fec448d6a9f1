import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { Secrets } from "../../platform/secrets.js";
import { classifyMail, type InboundMail, MalformedMailError } from "./classify.js";

/** What the listener logs through (pino's shape). Never the content of a mail. */
export interface InboundLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * Thrown by onMail for mail refused for good (a permanent SMTP error, 5xx); any other error is
 * taken as "cannot store it now" and answered 451, so the sending server tries again later.
 */
export class InboundRejectedError extends Error {
  constructor(
    message: string,
    readonly responseCode = 550,
  ) {
    super(message);
    this.name = "InboundRejectedError";
  }
}

/**
 * What the desk implements: in one transaction, `recordInbound(tx, mail.messageId, now)` first
 * (false: a retried delivery already taken in, resolve without doing anything), then place the
 * mail on a case. Resolve only once committed; throw InboundRejectedError to refuse for good, any
 * other error to have the sender retry (451).
 */
export type InboundMailHandler = (mail: InboundMail) => Promise<void>;

export interface InboundListenerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Largest message accepted (SIZE); a bigger one is answered 552. */
  maxBytes: number;
  /** RCPT TO (lower-cased): false answers 550, so Sesame is never an open relay. */
  acceptsRecipient: (address: string) => boolean;
  /** Stores the mail; resolving means committed (only then does the client get 250). */
  onMail: InboundMailHandler;
  log: InboundLog;
  secrets: Secrets;
  /** Simultaneous connections (default 20): each may hold up to maxBytes in memory. */
  maxClients?: number;
  /** Idle connection timeout (default 60 s). */
  socketTimeoutMs?: number;
  /** Recipients per message (default 50). */
  maxRecipients?: number;
}

export interface InboundListener {
  port: number;
  close(): Promise<void>;
}

const smtpError = (responseCode: number, message: string) =>
  Object.assign(new Error(message), { responseCode });

/** Reads the DATA stream whole, keeping at most maxBytes (beyond that it is drained and dropped). */
const readBounded = (stream: SMTPServerDataStream, maxBytes: number): Promise<Buffer | null> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let over = false;
    stream.on("data", (chunk: Buffer) => {
      if (over) return;
      length += chunk.length;
      if (length > maxBytes) {
        over = true;
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    stream.on("error", reject);
    stream.on("end", () => resolve(over || stream.sizeExceeded ? null : Buffer.concat(chunks)));
  });

/**
 * The built-in SMTP listener for the team addresses. It offers no AUTH and no STARTTLS (it sits
 * behind the organisation's MTA, on a private address), bounds sizes, connections and recipients,
 * and answers 250 only once onMail has committed the mail: a 2xx means nothing can be lost.
 */
export async function startInboundListener(options: InboundListenerOptions): Promise<InboundListener> {
  const { log, maxBytes } = options;
  const maxRecipients = options.maxRecipients ?? 50;

  const handleData = async (stream: SMTPServerDataStream, session: SMTPServerSession) => {
    const raw = await readBounded(stream, maxBytes);
    if (raw === null) throw smtpError(552, `5.3.4 Message too big (limit ${maxBytes} bytes)`);
    let mail: InboundMail;
    try {
      const parsed = await simpleParser(raw, { skipImageLinks: true, maxHtmlLengthToParse: 1024 * 1024 });
      mail = classifyMail(
        parsed,
        {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          rawSha256: createHash("sha256").update(raw).digest("hex"),
        },
        options.secrets,
      );
    } catch (error) {
      if (error instanceof MalformedMailError) throw smtpError(error.responseCode, error.message);
      throw smtpError(554, "5.6.0 Message could not be parsed");
    }
    try {
      await options.onMail(mail);
    } catch (error) {
      if (error instanceof InboundRejectedError) throw smtpError(error.responseCode, error.message);
      log.error(
        { err: error, messageId: mail.messageId, kind: mail.kind },
        "inbound mail could not be stored; asked the sender to retry",
      );
      throw smtpError(451, "4.3.0 Temporary failure, please try again later");
    }
    log.info(
      { messageId: mail.messageId, kind: mail.kind, recipients: mail.recipients.length },
      "inbound mail taken in",
    );
  };

  const server = new SMTPServer({
    banner: "Sesame inbound mail",
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    hideSTARTTLS: true,
    size: maxBytes,
    maxClients: options.maxClients ?? 20,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    closeTimeout: 10_000,
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, session, callback) {
      const recipient = address.address.trim().toLowerCase();
      if (session.envelope.rcptTo.length >= maxRecipients)
        return callback(smtpError(452, "4.5.3 Too many recipients"));
      if (!options.acceptsRecipient(recipient))
        return callback(smtpError(550, "5.1.1 No such recipient here"));
      callback();
    },
    onData(stream, session, callback) {
      handleData(stream, session).then(
        () => callback(),
        (error: Error) => callback(error),
      );
    },
  });
  server.on("error", (error) => log.warn({ err: error }, "inbound SMTP connection error"));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.server.off("error", onError);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
