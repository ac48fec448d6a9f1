import type { AgentsTables } from "../agents/schema.js";
import type { DeskCaseColumns, DeskTables } from "../desk/schema.js";
import type { MailTables } from "../messaging/schema.js";
import type { TimersTables } from "../timers/schema.js";

/**
 * Table shapes as stored. Instants are epoch-ms integers, booleans 0/1, JSON as text, on both
 * dialects, so one set of queries serves SQLite and PostgreSQL.
 */
export interface Database extends TimersTables, DeskTables, AgentsTables, MailTables {
  accounts: AccountsTable;
  alternates: AlternatesTable;
  known_devices: KnownDevicesTable;
  sessions: SessionsTable;
  recoveries: RecoveriesTable;
  recovery_codes: RecoveryCodesTable;
  cases: CasesTable;
  case_events: CaseEventsTable;
  case_contacts: CaseContactsTable;
  cap_counters: CapCountersTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  signin_throttle: SigninThrottleTable;
  password_history: PasswordHistoryTable;
}

export type LockReason = "compromise" | "brute_force" | "abuse" | "admin";

export interface AccountsTable {
  id: string;
  address: string;
  password_hash: string;
  display_name: string | null;
  locale: string;
  country: string | null;
  lock_reason: LockReason | null;
  lock_since: number | null;
  /** Only brute_force locks expire by themselves. */
  lock_until: number | null;
  lock_note: string | null;
  password_changed_at: number;
  created_at: number;
  updated_at: number;
}

export interface AlternatesTable {
  id: string;
  account_id: string;
  kind: "email" | "phone";
  /** Normalised: lower-case address, or E.164 number. */
  value: string;
  verified: number;
  created_at: number;
}

export interface KnownDevicesTable {
  account_id: string;
  device_hash: string;
  first_seen_at: number;
  last_seen_at: number;
  /** Wrong passwords from this device within the window (a higher threshold than strangers get). */
  failed_signins: number;
  failed_window_start: number | null;
}

export interface SessionsTable {
  id: string;
  account_id: string;
  token_hash: string;
  device_hash: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export type RecoveryState = "choose_channel" | "enter_code" | "set_password" | "done";

export interface RecoveriesTable {
  id: string;
  /** The address as typed (normalised); kept even when no account has it, so every answer is alike. */
  address: string;
  account_id: string | null;
  locale: string;
  state: RecoveryState;
  started_at: number;
  verified_at: number | null;
  completed_at: number | null;
  case_id: string | null;
  /** HMAC of the one-time token handed out when the code was confirmed; the password step needs it. */
  password_token_hash: string | null;
  case_contact_id: string | null;
}

export interface RecoveryCodesTable {
  id: string;
  recovery_id: string;
  address: string;
  channel: "email" | "phone";
  /** Masked destination, for the audit log and the pages; never the full value. */
  destination_masked: string;
  /** Null when the destination was not a verified alternate: such a code can never match. */
  code_hash: string | null;
  attempts: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  voided_at: number | null;
  /** HMAC of the long token in the mail's link (real email codes only). */
  link_token_hash: string | null;
}

export interface CasesTable extends DeskCaseColumns {
  id: string;
  ref: string;
  account_id: string | null;
  account_address: string;
  contact_email: string | null;
  locale: string;
  /** waiting: on the customer (per-tier clocks paused). */
  status: "open" | "waiting" | "resolved";
  source: string;
  /** Start of the customer clock: the person's first attempt, which never moves. */
  first_attempt_at: number;
  opened_at: number;
  updated_at: number;
}

export interface CaseEventsTable {
  id: string;
  case_id: string;
  at: number;
  type: string;
  actor: string;
  detail: string;
  /** Set on what was written to one contact: their status page shows only those. */
  contact_id?: string | null;
}

/** Contacts of a case: added, never replaced. */
export interface CaseContactsTable {
  id: string;
  case_id: string;
  email: string;
  /** How the contact arrived, e.g. "recovery_no_access". */
  via: string;
  verified: number;
  /** HMAC of the contact's own status-link token. */
  token_hash: string;
  /** The token itself, sealed: every mail to the contact carries their status link. */
  token_sealed: string | null;
  created_at: number;
}

/**
 * One row per capped key (an HMAC of address, source, destination: never in clear): the acts counted
 * in its window, which starts at the first act and lasts the cap's window.
 */
export interface CapCountersTable {
  key: string;
  window_start: number;
  count: number;
}

export interface AuditLogTable {
  /** Each subject (an account, an address) has its own hash chain. */
  stream: string;
  seq: number;
  at: number;
  type: string;
  actor: string;
  account_id: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

export interface OutboxTable {
  id: string;
  channel: "email" | "sms";
  recipient: string;
  subject: string | null;
  body: string;
  /** "voided": not sent because its one-time code was voided or used first. */
  status: "pending" | "sent" | "failed" | "voided";
  attempts: number;
  next_attempt_at: number;
  claimed_until: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  /** The recovery code the message carries, if any (recovery_codes.id). */
  code_id: string | null;
}

/**
 * Failed sign-ins per normalised address, keyed by the address's HMAC: the same row and the same
 * work whether or not an account has the address, so the throttle tells nobody which ones exist.
 * It holds the brute_force lock (an account's view shows it).
 */
export interface SigninThrottleTable {
  key_hash: string;
  failures: number;
  window_start: number | null;
  /** How many brute_force locks in a row: each one lasts twice the previous. */
  level: number;
  locked_since: number | null;
  locked_until: number | null;
  updated_at: number;
}

/** The hashes an account's password had before: a new password may not be one of the last five. */
export interface PasswordHistoryTable {
  account_id: string;
  /** 1, 2, 3... per account: the order of replacement, even within one millisecond. */
  seq: number;
  password_hash: string;
  replaced_at: number;
}
