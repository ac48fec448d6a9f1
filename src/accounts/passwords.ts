import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { hash, verify } from "@node-rs/argon2";
import { ThreadPool } from "../platform/thread-pool.js";

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

const resolve = createRequire(import.meta.url).resolve;

const CORES = availableParallelism();

/**
 * Where argon2id runs. While no more hashes are in flight than there are cores, on libuv's pool, as
 * @node-rs/argon2 does by itself. Beyond that they would queue on the pool's four threads, and four
 * memory-hard hashes took turns on two cores: each verify cost 9% more CPU, a flood of sign-ins held
 * the 76 MiB of four hashes, and a mail's DNS lookup waited behind the whole queue. So they go to
 * threads of their own, one per core, each verifying its queue back to back (no core waits for the
 * main thread between two hashes), and the threads take every hash until they have been idle for a
 * second: at a trickle of sign-ins no thread is started, and no memory held.
 */
export const hashingRoute = {
  /** Hashes in flight on libuv's pool before the threads take over (tests set 0 to use the threads). */
  libuvUpTo: CORES,
};

let onLibuv = 0;

type HashTask = { verify: string; password: string } | { hash: typeof ARGON2; password: string };

const hashing = new ThreadPool<HashTask, string | boolean>({
  what: "password hashing",
  source: `
    const { parentPort, workerData } = require("node:worker_threads");
    const { hashSync, verifySync } = require(workerData);
    parentPort.on("message", ({ id, verify, hash, password }) => {
      if (hash) {
        let answer;
        try { answer = { id, result: hashSync(password, hash) }; } catch { answer = { id, error: "no hash" }; }
        return parentPort.postMessage(answer);
      }
      let ok = false;
      try { ok = verifySync(verify, password); } catch {}
      parentPort.postMessage({ id, result: ok });
    });
  `,
  workerData: resolve("@node-rs/argon2"),
  accept: (result): result is string | boolean => typeof result === "string" || typeof result === "boolean",
  size: CORES,
  idleMs: 1_000,
});

/** SESAME_HASH_THREADS (one per core by default): hashes on libuv's pool before the threads take over, and threads at most. */
export function setHashThreads(threads: number): void {
  hashing.size = threads;
  hashingRoute.libuvUpTo = threads;
}

/** The threads that hash passwords under load (tests end them, or watch them come and go). */
export const passwordHasher: Pick<ThreadPool<object, unknown>, "active" | "close"> = hashing;

async function runHash(onPool: () => Promise<string | boolean>, task: HashTask) {
  if (hashing.active > 0 || onLibuv >= hashingRoute.libuvUpTo) return hashing.run(task);
  onLibuv++;
  try {
    return await onPool();
  } finally {
    onLibuv--;
  }
}

/** Rejects with ERR_UNAVAILABLE when no hashing thread could answer. */
export async function hashPassword(password: string): Promise<string> {
  const hashed = await runHash(() => hash(password, ARGON2), { hash: ARGON2, password });
  if (typeof hashed !== "string") throw new Error("password hashing answered a hash with a verify's result");
  return hashed;
}

/**
 * False for a wrong password or a stored hash that does not parse (as a wrong password); rejects
 * with ERR_UNAVAILABLE when no thread could answer, which a caller must never count as wrong.
 */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  const onPool = () => verify(storedHash, password).catch(() => false);
  const ok = (await runHash(onPool, { verify: storedHash, password })) === true;
  if (hashing.inFlight > hashing.size) await nextTurn();
  return ok;
}

/**
 * How long a finished verify waits, while others queue behind the threads, for the ones finishing
 * after it. Under a flood of sign-ins the hashes finish one by one, and each woke the main thread
 * alone for its transaction, commit and answer, with its caches emptied by the hashing: 2.1-2.3 ms
 * of main-thread CPU a sign-in, about a tenth of the two cores. Going on together, the verifies of
 * a turn share one wake-up and one commit: 1.4-1.5 ms, and sign-in rose from 83-86% of the raw
 * argon2id rate to 92-96% (docs/benchmarks.md). A wait of 20 ms is little beside the queue's own
 * (a flood's sign-in waits hundreds of ms for its hash); with no queue nothing waits.
 */
export const HASH_TURN_MS = 20;

let turn: Promise<void> | null = null;
const nextTurn = (): Promise<void> => {
  turn ??= new Promise((resolve) =>
    setTimeout(() => {
      turn = null;
      resolve();
    }, HASH_TURN_MS),
  );
  return turn;
};

// Verifying against this keeps "no such account" as slow as "wrong password".
let decoyHash: Promise<string> | null = null;
export const decoyPasswordHash = (): Promise<string> => {
  decoyHash ??= hashPassword("sesame-decoy-password-never-valid").catch((error: unknown) => {
    decoyHash = null; // the next sign-in tries again
    throw error;
  });
  return decoyHash;
};

// zxcvbn with the dictionaries of five languages (about 40 MiB once built) runs in a worker thread
// that lives only while passwords are being checked; never imported here.
const zxcvbnModules = {
  core: resolve("@zxcvbn-ts/core"),
  common: resolve("@zxcvbn-ts/language-common"),
  languages: ["en", "fr", "de", "nl-be"].map((code) => ({
    code,
    path: resolve(`@zxcvbn-ts/language-${code}`),
  })),
};

const zxcvbnWorker = new ThreadPool<{ password: string; personalWords: string[] }, number>({
  what: "password check",
  accept: (score): score is number =>
    typeof score === "number" && Number.isInteger(score) && score >= 0 && score <= 4,
  source: `
    const { parentPort, workerData } = require("node:worker_threads");
    const { zxcvbn, zxcvbnOptions } = require(workerData.core);
    const common = require(workerData.common);
    // Each language's lists under their own names ("commonWords-fr"): the packages share list
    // names, and merged as they are the last language's lists would replace all the others'.
    const dictionary = { ...common.dictionary };
    for (const { code, path } of workerData.languages)
      for (const [name, words] of Object.entries(require(path).dictionary)) dictionary[name + "-" + code] = words;
    zxcvbnOptions.setOptions({ graphs: common.adjacencyGraphs, dictionary });
    parentPort.on("message", ({ id, password, personalWords }) => {
      let answer;
      try {
        answer = { id, result: zxcvbn(password, personalWords).score };
      } catch (error) {
        answer = { id, error: String((error && error.message) || error) };
      }
      parentPort.postMessage(answer);
    });
  `,
  workerData: zxcvbnModules,
});

/** The worker that scores passwords (tests end it, or watch it come and go). */
export const passwordScorer: Pick<ThreadPool<object, unknown>, "active" | "close"> = zxcvbnWorker;

const MIN_PASSWORD_SCORE = 3;
const MIN_PASSWORD_LENGTH = 10;

const letters = (value: string) => value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");

/**
 * What is left of a password once the person's own words are taken out ("maria-rosa-hotmail" leaves
 * nothing): zxcvbn misses such joins when separators stand between the words.
 */
export function withoutPersonalWords(password: string, personalWords: string[]): string {
  let rest = letters(password);
  const words = personalWords
    .map(letters)
    .filter((w) => w.length >= 3)
    .sort((a, b) => b.length - a.length);
  for (const word of words) rest = rest.split(word).join("");
  return rest;
}

/**
 * Score 0..4 of a new password, with the person's own words (address, name) counted as guessable.
 * Rejects with ERR_UNAVAILABLE when the scoring worker fails: never "strong" without a score.
 */
export async function passwordStrength(
  password: string,
  personalWords: string[],
): Promise<{ score: number; strong: boolean }> {
  const score = await zxcvbnWorker.run({ password: password.slice(0, 128), personalWords });
  const ownWordsOnly = withoutPersonalWords(password, personalWords).length < 4;
  return {
    score,
    strong: score >= MIN_PASSWORD_SCORE && password.length >= MIN_PASSWORD_LENGTH && !ownWordsOnly,
  };
}
