import { v7 as uuidv7 } from "uuid";
import { randomBytes } from "./random.js";

/**
 * Row ids, minted by the application so any node can make them: UUIDv7, the creation millisecond
 * then 74 random bits (from the pool: the library's own draw costs 2.7 µs an id). Rows made
 * together land side by side in their primary-key index; random UUIDs put each new row on a page of
 * its own, and every page a transaction touches is written to the log at its commit (on SQLite and
 * PostgreSQL alike). Never a secret: tokens are separate.
 */
export const newId = (): string => uuidv7({ random: randomBytes(16) });

// Crockford-like alphabet without 0/O, 1/I/L and U: easy to read out over the phone.
const REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
const LETTERS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

const pick = (alphabet: string, length: number): string => {
  const bytes = randomBytes(length * 2);
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[bytes.readUInt16BE(i * 2) % alphabet.length];
  return out;
};

/** A case reference such as SES-7K2M-9QXD: short enough to dictate, 30^8 possibilities. */
export const newCaseRef = (): string => `SES-${pick(REF_ALPHABET, 4)}-${pick(REF_ALPHABET, 4)}`;

// Lower case only: they sort alike bytewise (SQLite) and in a locale's collation (PostgreSQL's).
const TIME_LETTERS = "abcdefghijkmnopqrstuvwxyz";

/** `ms` as 9 letters of TIME_LETTERS that sort as the numbers do (25^9 ms reach the year 2090). */
const timeLetters = (ms: number): string => {
  let out = "";
  for (let i = 0, rest = ms; i < 9; i++, rest = Math.floor(rest / TIME_LETTERS.length))
    out = TIME_LETTERS[rest % TIME_LETTERS.length] + out;
  return out;
};

/**
 * Identifier of a recovery attempt, letters only: it appears in mail links, and a letters-only id
 * can never be mistaken for the 6-digit code beside it. Its last 24 letters are random (~135 bits)
 * and make it a capability; the 9 before them are its start millisecond, so recoveries started
 * together share a page of the id index instead of taking one page each, and every page a commit
 * touches is written to the log. The time tells nothing to whoever holds the id: she started the
 * recovery, or holds its mail, which carries its date.
 */
export const newRecoveryId = (now = Date.now()): string => `rc_${timeLetters(now)}${pick(LETTERS, 24)}`;
