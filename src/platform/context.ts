import type { Config } from "../config.js";
import type { Db, Dialect, Tx } from "../db/database.js";
import type { TimerService } from "../timers/service.js";
import { type AuditEntry, accountStream, appendAudit } from "./audit.js";
import type { Clock } from "./clock.js";
import type { Secrets } from "./secrets.js";
import type { KeyedSerializer } from "./serializer.js";

/** What every service needs from the platform; built once in server.ts. */
export interface Platform {
  config: Config;
  db: Db;
  dialect: Dialect;
  clock: Clock;
  secrets: Secrets;
  /** Key of the audit chains (see auditKey). */
  auditKey: Buffer;
  /**
   * Which channels can carry a code: a configured transport, or the development mailbox. A
   * deployment with SMTP but no SMS gateway has sms: false (phone recovery refused), and so on.
   */
  channels: { email: boolean; sms: boolean };
  /** Wakes the outbox dispatcher after a commit that queued messages. */
  wakeOutbox(): void;
  /** Durable timers: set, move and cancel them in a use-case's transaction; features register handlers. */
  timers: TimerService;
  /** Wakes the timers' worker (after the manual clock moved, or a commit that set a timer due at once). */
  wakeTimers(): void;
  /** Work about one address, one at a time in this process (see KeyedSerializer, inAddressTransaction). */
  serialized: KeyedSerializer;
  /** Runs a use-case's work in a transaction (on SQLite with others, see GroupCommit); settles after the commit. */
  transact<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

/** One use-case, one transaction: the change, its audit entries and its outbox messages commit together. */
export const inTransaction = <T>(platform: Platform, work: (tx: Tx) => Promise<T>): Promise<T> =>
  platform.transact(work);

/**
 * A use-case's transaction about one address. On PostgreSQL it first queues in memory behind the
 * others about that address on this node (see KeyedSerializer). SQLite has one connection, and the
 * group commit runs use-cases one at a time: there is nothing to queue for there, and the queue
 * gave each request about the address a commit of its own (a flood about one address cost three
 * times the CPU a request).
 */
export const inAddressTransaction = <T>(
  platform: Platform,
  address: string,
  work: (tx: Tx) => Promise<T>,
): Promise<T> =>
  platform.dialect === "sqlite"
    ? inTransaction(platform, work)
    : platform.serialized.run(`address:${address}`, () => inTransaction(platform, work));

/** An audit entry in the account's own hash chain, inside the use-case's transaction. */
export const auditAccount = (platform: Platform, tx: Tx, accountId: string, entry: AuditEntry) =>
  appendAudit(tx, platform.dialect, platform.auditKey, platform.clock.now(), accountStream(accountId), {
    ...entry,
    accountId,
  });

/**
 * An audit entry about an address that may or may not be an account's. Attempts on unknown
 * addresses are recorded too (in a chain keyed by the address's HMAC): the record of probing is
 * useful, and both cases then cost the same, so timing does not tell them apart.
 */
export const auditSubject = (
  platform: Platform,
  tx: Tx,
  subject: { accountId: string | null; address: string },
  entry: AuditEntry,
) => {
  // Keyed for an account's address too, though its entry goes to the account's chain: skipping it
  // made an unknown address's answer one HMAC (about 3 µs) slower.
  const addressStream = `address:${platform.secrets.hmac(`address:${subject.address}`)}`;
  return subject.accountId
    ? auditAccount(platform, tx, subject.accountId, entry)
    : appendAudit(tx, platform.dialect, platform.auditKey, platform.clock.now(), addressStream, {
        ...entry,
        accountId: null,
      });
};
