import { hash, verify } from "@node-rs/argon2";
import { zxcvbn, zxcvbnOptions } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as de from "@zxcvbn-ts/language-de";
import * as en from "@zxcvbn-ts/language-en";
import * as fr from "@zxcvbn-ts/language-fr";
import * as nl from "@zxcvbn-ts/language-nl-be";

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

let dictionariesLoaded = false;
const loadDictionaries = () => {
  if (dictionariesLoaded) return;
  zxcvbnOptions.setOptions({
    graphs: common.adjacencyGraphs,
    dictionary: {
      ...common.dictionary,
      ...en.dictionary,
      ...fr.dictionary,
      ...de.dictionary,
      ...nl.dictionary,
    },
  });
  dictionariesLoaded = true;
};

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

/** Score 0..4 of a new password, with the person's own words (address, name) counted as guessable. */
export function passwordStrength(
  password: string,
  personalWords: string[],
): { score: number; strong: boolean } {
  loadDictionaries();
  const { score } = zxcvbn(password.slice(0, 128), personalWords);
  const ownWordsOnly = withoutPersonalWords(password, personalWords).length < 4;
  return {
    score,
    strong: score >= MIN_PASSWORD_SCORE && password.length >= MIN_PASSWORD_LENGTH && !ownWordsOnly,
  };
}
