import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { hash } from "@node-rs/argon2";
import { zxcvbn, zxcvbnOptions } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as de from "@zxcvbn-ts/language-de";
import * as en from "@zxcvbn-ts/language-en";
import * as fr from "@zxcvbn-ts/language-fr";
import * as nl from "@zxcvbn-ts/language-nl-be";
import { afterEach, describe, expect, it } from "vitest";
import { failure } from "../../test/helpers.js";
import {
  decoyPasswordHash,
  HASH_TURN_MS,
  hashingRoute,
  hashPassword,
  passwordHasher,
  passwordScorer,
  passwordStrength,
  setHashThreads,
  verifyPassword,
} from "./passwords.js";

describe("password strength in a worker thread", () => {
  it("scores exactly as zxcvbn with the five languages' dictionaries in this thread", async () => {
    const dictionary: Record<string, unknown> = { ...common.dictionary };
    for (const [code, language] of Object.entries({ en, fr, de, "nl-be": nl }))
      for (const [name, words] of Object.entries(language.dictionary)) dictionary[`${name}-${code}`] = words;
    zxcvbnOptions.setOptions({ graphs: common.adjacencyGraphs, dictionary: dictionary as never });
    const personal = ["maria-rosa@hotmail.example", "maria", "rosa", "hotmail"];
    const samples = [
      "password1",
      "azerty123",
      "Wachtwoord1",
      "motdepasse2024",
      "Kennwort!Sommer",
      "maria-rosa-hotmail",
      "correct horse battery staple",
      "violet tractor mirrors quietly 1987",
      "Tr0ub4dor&3",
      "qwertzuiop",
      "Zonnebloem1987",
      "x".repeat(200),
    ];
    for (const password of samples) {
      const here = zxcvbn(password.slice(0, 128), personal).score;
      expect((await passwordStrength(password, personal)).score, password).toBe(here);
    }
  });

  it("knows the words of every language: French and English lists are not replaced by the Dutch ones", async () => {
    // Two common French words: with the lists merged under shared names ("commonWords"), only the
    // last language's survived and these scored 4.
    for (const password of ["parapluierouge", "chaussettemaison", "motdepasseoublie", "wonderfulfamily"])
      expect((await passwordStrength(password, [])).strong, password).toBe(false);
  });

  it("never takes a password to strong when its scoring worker dies mid-check", async () => {
    const check = passwordStrength("violet tractor mirrors quietly 1987", []);
    await passwordScorer.close();
    expect(await failure(check)).toBe("ERR_UNAVAILABLE");
    expect((await passwordStrength("violet tractor mirrors quietly 1987", [])).strong).toBe(true);
  });

  it("lets the process exit once answered, and keeps it alive while a check or a hash is in flight", () => {
    // Nothing but the checks keep this process alive: it must print the score (a thread is
    // referenced while a task waits) and then exit at once, not when the threads' idle time is
    // over (they are unreferenced again once nothing is in flight).
    const script = `
      import("./src/accounts/passwords.ts").then(async ({ passwordStrength, hashPassword, verifyPassword }) => {
        const stored = await hashPassword("violet tractor mirrors quietly 1987");
        if (!(await verifyPassword(stored, "violet tractor mirrors quietly 1987"))) throw new Error("no verify");
        const result = await passwordStrength("violet tractor mirrors quietly 1987", []);
        const answered = performance.now();
        console.log(JSON.stringify(result));
        process.on("exit", () => console.log(Math.round(performance.now() - answered)));
      });
    `;
    const child = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    const [result, exitAfterMs] = child.stdout.trim().split("\n");
    expect(JSON.parse(result!)).toEqual({ score: 4, strong: true });
    expect(Number(exitAfterMs)).toBeLessThan(800);
  });
});

describe("password hashing", () => {
  const password = "violet tractor mirrors quietly 1987";
  const libuvUpTo = hashingRoute.libuvUpTo;
  afterEach(() => {
    hashingRoute.libuvUpTo = libuvUpTo;
  });

  it("hashes with argon2id at OWASP's parameters, and verifies only the right password, on either route", async () => {
    for (const route of [libuvUpTo, 0]) {
      hashingRoute.libuvUpTo = route;
      const stored = await hashPassword(password);
      expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(await verifyPassword(stored, password)).toBe(true);
      expect(await verifyPassword(stored, "violet tractor mirrors quietly 1988")).toBe(false);
      expect(await verifyPassword("not a hash", password)).toBe(false);
      expect(await verifyPassword("", "")).toBe(false);
    }
  });

  it("runs on libuv's pool up to one hash per core, then on threads of its own that leave the pool free", async () => {
    const stored = await hashPassword(password);
    await passwordHasher.close();
    // A trickle: no thread is started.
    expect(
      await Promise.all(
        Array.from({ length: availableParallelism() }, () => verifyPassword(stored, password)),
      ),
    ).toEqual(Array.from({ length: availableParallelism() }, () => true));
    expect(passwordHasher.active).toBe(0);

    let answered = 0;
    const verifies = Array.from({ length: 4 * availableParallelism() }, () =>
      verifyPassword(stored, password).then((ok) => {
        answered++;
        return ok;
      }),
    );
    // On libuv's pool alone, this read would wait behind every verify queued before it.
    await readFile(new URL(import.meta.url));
    expect(answered).toBeLessThan(verifies.length / 2);
    expect(passwordHasher.active).toBe(availableParallelism());
    expect(await Promise.all(verifies)).toEqual(verifies.map(() => true));
  });

  it("starts no more threads than SESAME_HASH_THREADS allows", async () => {
    const stored = await hashPassword(password);
    await passwordHasher.close();
    setHashThreads(1);
    try {
      const verifies = Array.from({ length: 6 }, () => verifyPassword(stored, password));
      expect(passwordHasher.active).toBe(1);
      expect(await Promise.all(verifies)).toEqual(verifies.map(() => true));
    } finally {
      setHashThreads(availableParallelism());
    }
  });

  it("lets the verifies that finish while others queue go on together, at the next turn; alone, none waits", async () => {
    // Cheap hashes (the parameters are read from the hash): four finish within a few ms.
    const stored = await hash(password, { algorithm: 2, memoryCost: 64, timeCost: 1, parallelism: 1 });
    hashingRoute.libuvUpTo = 0;
    await passwordHasher.close();
    setHashThreads(1);
    const four = async () => {
      const t0 = performance.now();
      return Promise.all(
        ["right", "wrong", "right", "right"].map(async (which) => {
          const ok = await verifyPassword(stored, which === "right" ? password : `${password}!`);
          return { ok, at: performance.now() - t0 };
        }),
      );
    };
    try {
      await four(); // the new thread's first round loads it (100 ms and more on a busy machine)
      const start = performance.now();
      expect(await verifyPassword(stored, password)).toBe(true);
      expect(performance.now() - start).toBeLessThan(HASH_TURN_MS);
      const settled = await four();
      expect(settled.map((s) => s.ok)).toEqual([true, false, true, true]);
      // The first two finished with others still queued behind the one thread: they waited for the
      // turn and went on in the same tick. The last two found no queue and went on at once.
      const [first, second, third, last] = settled.map((s) => s.at) as [number, number, number, number];
      expect(first).toBeGreaterThanOrEqual(HASH_TURN_MS - 1);
      expect(Math.abs(second - first)).toBeLessThan(2);
      expect(Math.max(third, last)).toBeLessThan(first);
    } finally {
      setHashThreads(availableParallelism());
    }
  });

  it("fails a verify whose thread dies with ERR_UNAVAILABLE, never with a wrong password's false", async () => {
    const stored = await hashPassword(password);
    hashingRoute.libuvUpTo = 0;
    const check = failure(verifyPassword(stored, password));
    await passwordHasher.close();
    expect(await check).toBe("ERR_UNAVAILABLE");
    expect(await verifyPassword(stored, password)).toBe(true);
  });

  it("retries the decoy hash after a failure instead of keeping the failure", async () => {
    // Ended before it answers: the sign-ins of unknown addresses would fail for good if the
    // rejected promise were kept.
    hashingRoute.libuvUpTo = 0;
    const first = failure(decoyPasswordHash());
    await passwordHasher.close();
    expect(await first).toBe("ERR_UNAVAILABLE");
    expect(await decoyPasswordHash()).toMatch(/^\$argon2id\$/);
  });
});
