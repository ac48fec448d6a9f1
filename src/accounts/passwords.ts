import { createRequire } from "node:module";
import { hash, verify } from "@node-rs/argon2";
import { ScoringWorker } from "./strength-worker.js";

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2);

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

// Verifying against this keeps "no such account" as slow as "wrong password".
let decoyHash: Promise<string> | null = null;
export const decoyPasswordHash = (): Promise<string> => {
  decoyHash ??= hashPassword("sesame-decoy-password-never-valid");
  return decoyHash;
};

// zxcvbn with the dictionaries of five languages (about 40 MiB once built) runs in a worker thread
// that lives only while passwords are being checked (strength-worker.ts); never imported here.
const resolve = createRequire(import.meta.url).resolve;
const zxcvbnModules = {
  core: resolve("@zxcvbn-ts/core"),
  common: resolve("@zxcvbn-ts/language-common"),
  languages: ["en", "fr", "de", "nl-be"].map((code) => ({
    code,
    path: resolve(`@zxcvbn-ts/language-${code}`),
  })),
};

const zxcvbnWorker = new ScoringWorker({
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
        answer = { id, score: zxcvbn(password, personalWords).score };
      } catch (error) {
        answer = { id, error: String((error && error.message) || error) };
      }
      parentPort.postMessage(answer);
    });
  `,
  workerData: zxcvbnModules,
});

/** The worker that scores passwords (tests end it, or watch it come and go). */
export const passwordScorer: Pick<ScoringWorker, "active" | "close"> = zxcvbnWorker;

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
  const score = await zxcvbnWorker.score(password.slice(0, 128), personalWords);
  const ownWordsOnly = withoutPersonalWords(password, personalWords).length < 4;
  return {
    score,
    strong: score >= MIN_PASSWORD_SCORE && password.length >= MIN_PASSWORD_LENGTH && !ownWordsOnly,
  };
}
