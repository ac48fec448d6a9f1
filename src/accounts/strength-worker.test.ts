import { spawnSync } from "node:child_process";
import { zxcvbn, zxcvbnOptions } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as de from "@zxcvbn-ts/language-de";
import * as en from "@zxcvbn-ts/language-en";
import * as fr from "@zxcvbn-ts/language-fr";
import * as nl from "@zxcvbn-ts/language-nl-be";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../platform/errors.js";
import { passwordScorer, passwordStrength } from "./passwords.js";
import { ScoringWorker } from "./strength-worker.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The code a rejected check failed with; "resolved" when it did not fail. */
const failure = async (check: Promise<unknown>): Promise<string> => {
  try {
    await check;
    return "resolved";
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
};

const answering = (reply: string) => `
  const { parentPort } = require("node:worker_threads");
  parentPort.on("message", ({ id, password }) => { ${reply} });
`;

const workers: ScoringWorker[] = [];
const scorer = (source: string, options: { idleMs?: number; timeoutMs?: number } = {}) => {
  const worker = new ScoringWorker({ source, ...options });
  workers.push(worker);
  return worker;
};
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close()));
});

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

  it("answers a burst of checks from one worker, which ends once idle", async () => {
    const worker = scorer(answering("parentPort.postMessage({ id, score: password.length % 5 })"), {
      idleMs: 150,
    });
    const scores = await Promise.all(["a", "bb", "ccc", "dddd", "eeeee"].map((p) => worker.score(p, [])));
    expect(scores).toEqual([1, 2, 3, 4, 0]);
    expect(worker.active).toBe(true);
    await sleep(50);
    expect(await worker.score("bb", [])).toBe(2);
    await sleep(400);
    expect(worker.active).toBe(false);
    expect(await worker.score("ccc", [])).toBe(3); // a new worker
  });

  it("fails closed when the worker cannot load, exits, answers no score or hangs", async () => {
    expect(await failure(scorer("throw new Error('no dictionaries')").score("x", []))).toBe(
      "ERR_UNAVAILABLE",
    );
    expect(await failure(scorer(answering("process.exit(3)")).score("x", []))).toBe("ERR_UNAVAILABLE");
    expect(await failure(scorer(answering("throw new Error('boom')")).score("x", []))).toBe(
      "ERR_UNAVAILABLE",
    );
    expect(
      await failure(scorer(answering("parentPort.postMessage({ id, error: 'bad input' })")).score("x", [])),
    ).toBe("ERR_UNAVAILABLE");
    expect(
      await failure(scorer(answering("parentPort.postMessage({ id, score: '4' })")).score("x", [])),
    ).toBe("ERR_UNAVAILABLE");
    const hanging = scorer(answering(""), { timeoutMs: 200 });
    expect(await failure(hanging.score("x", []))).toBe("ERR_UNAVAILABLE");
    expect(hanging.active).toBe(false);
  });

  it("fails every check in flight when the worker crashes, and the next check gets a new worker", async () => {
    const worker = scorer(
      answering("if (password === 'crash') process.exit(1); else parentPort.postMessage({ id, score: 4 })"),
    );
    const checks = [worker.score("crash", []), worker.score("strong enough", [])];
    expect(await Promise.all(checks.map(failure))).toEqual(["ERR_UNAVAILABLE", "ERR_UNAVAILABLE"]);
    expect(await worker.score("strong enough", [])).toBe(4);
  });

  it("never takes a password to strong when its scoring worker dies mid-check", async () => {
    const check = passwordStrength("violet tractor mirrors quietly 1987", []);
    await passwordScorer.close();
    expect(await failure(check)).toBe("ERR_UNAVAILABLE");
    expect((await passwordStrength("violet tractor mirrors quietly 1987", [])).strong).toBe(true);
  });

  it("lets the process exit once answered, and keeps it alive while a check is in flight", () => {
    // Nothing but the check keeps this process alive: it must print the score (the worker is
    // referenced while the check waits) and then exit at once, not when the worker's idle second
    // is over (it is unreferenced again once nothing is in flight).
    const script = `
      import("./src/accounts/passwords.ts").then(async ({ passwordStrength }) => {
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
