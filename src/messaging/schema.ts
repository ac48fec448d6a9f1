/** Tables of mail in and out (migration 008_mail). */
export interface MailTables {
  mail_suppressions: MailSuppressionsTable;
  inbound_messages: InboundMessagesTable;
}

/** An address Sesame no longer mails (a permanent bounce): mail to it is voided, never sent. */
export interface MailSuppressionsTable {
  /** Lower-cased address. */
  address: string;
  /** Why, e.g. "bounce 5.1.1". */
  reason: string;
  at: number;
}

/** Inbound mail already taken in, by Message-ID: a retried delivery is not added twice. */
export interface InboundMessagesTable {
  message_id: string;
  received_at: number;
  /** The case the mail landed on, once the desk has placed it. */
  case_id: string | null;
}

// 008_mail adds `headers` to the outbox (declared here so the outbox's table shape stays with it).
declare module "../db/schema.js" {
  interface OutboxTable {
    /** JSON of MailHeaders (outbox.ts), or null: what the mail carries besides From/To/Subject. */
    headers: string | null;
  }
}
