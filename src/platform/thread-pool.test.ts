import { afterEach, describe, expect, it } from "vitest";
import { failure } from "../../test/helpers.js";
import { ThreadPool } from "./thread-pool.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A worker that runs `reply` for each task `{id, text}`. */
const answering = (reply: string) => `
  const { parentPort, threadId } = require("node:worker_threads");
  parentPort.on("message", ({ id, text }) => { ${reply} });
`;

const isNumber = (result: unknown): result is number => typeof result === "number";

const pools: ThreadPool<{ text: string }, number>[] = [];
const pool = (source: string, options: { size?: number; idleMs?: number; timeoutMs?: number } = {}) => {
  const created = new ThreadPool<{ text: string }, number>({
    source,
    what: "test task",
    accept: isNumber,
    ...options,
  });
  pools.push(created);
  return created;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe("thread pool", () => {
  it("answers a burst of tasks from one thread, which ends once idle", async () => {
    const one = pool(answering("parentPort.postMessage({ id, result: text.length % 5 })"), { idleMs: 150 });
    const results = await Promise.all(["a", "bb", "ccc", "dddd", "eeeee"].map((text) => one.run({ text })));
    expect(results).toEqual([1, 2, 3, 4, 0]);
    expect(one.active).toBe(1);
    await sleep(50);
    expect(await one.run({ text: "bb" })).toBe(2);
    await sleep(400);
    expect(one.active).toBe(0);
    expect(await one.run({ text: "ccc" })).toBe(3); // a new thread
  });

  it("spreads tasks in flight over up to `size` threads, and reuses an idle one", async () => {
    // Each task holds its thread for a moment, so that the next ones find it busy.
    const busy = answering(
      "const until = Date.now() + 30; while (Date.now() < until); parentPort.postMessage({ id, result: threadId })",
    );
    const three = pool(busy, { size: 3 });
    const threads = await Promise.all(Array.from({ length: 9 }, () => three.run({ text: "" })));
    expect(three.active).toBe(3);
    const perThread = new Map<number, number>();
    for (const id of threads) perThread.set(id, (perThread.get(id) ?? 0) + 1);
    expect([...perThread.values()]).toEqual([3, 3, 3]);
    // One at a time: each finds a thread idle, and no fourth thread starts.
    for (let i = 0; i < 4; i++) await three.run({ text: "" });
    expect(three.active).toBe(3);

    const single = pool(busy, { size: 1 });
    const alone = await Promise.all(Array.from({ length: 4 }, () => single.run({ text: "" })));
    expect(new Set(alone).size).toBe(1);
  });

  it("fails closed when the thread cannot load, exits, throws, answers an error or a refused result, or hangs", async () => {
    expect(await failure(pool("throw new Error('no dictionaries')").run({ text: "x" }))).toBe(
      "ERR_UNAVAILABLE",
    );
    expect(await failure(pool(answering("process.exit(3)")).run({ text: "x" }))).toBe("ERR_UNAVAILABLE");
    expect(await failure(pool(answering("throw new Error('boom')")).run({ text: "x" }))).toBe(
      "ERR_UNAVAILABLE",
    );
    expect(
      await failure(pool(answering("parentPort.postMessage({ id, error: 'bad input' })")).run({ text: "x" })),
    ).toBe("ERR_UNAVAILABLE");
    expect(
      await failure(pool(answering("parentPort.postMessage({ id, result: '4' })")).run({ text: "x" })),
    ).toBe("ERR_UNAVAILABLE");
    const hanging = pool(answering(""), { timeoutMs: 200 });
    expect(await failure(hanging.run({ text: "x" }))).toBe("ERR_UNAVAILABLE");
    expect(hanging.active).toBe(0);
  });

  it("fails the tasks of a thread that crashes, not those of the others, and the next task gets a new thread", async () => {
    const two = pool(
      answering(`
        if (text === "crash") process.exit(1);
        const until = Date.now() + 200; while (Date.now() < until);
        parentPort.postMessage({ id, result: 4 });
      `),
      { size: 2 },
    );
    // Tasks alternate between the two threads: "crash" and the third task on one, the others on the other.
    const tasks = ["crash", "steady", "after crash", "steady"].map((text) => two.run({ text }));
    expect(await Promise.all(tasks.map(failure))).toEqual([
      "ERR_UNAVAILABLE",
      "resolved",
      "ERR_UNAVAILABLE",
      "resolved",
    ]);
    expect(await two.run({ text: "again" })).toBe(4);
  });
});
