import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "./clock.js";
import { ClockWorker } from "./worker.js";

const START = Date.UTC(2026, 10, 26, 9);

const recordingLog = () => {
  const lines: string[] = [];
  const log = {
    info: (_fields: unknown, message: string) => lines.push(`info ${message}`),
    warn: (_fields: unknown, message: string) => lines.push(`warn ${message}`),
    error: (_fields: unknown, message: string) => lines.push(`error ${message}`),
  };
  return { log: log as never, lines };
};

/** A worker whose rounds are recorded, and fail while `failing` is set. */
function worker(opts: { pollMs?: number; maxBackoffMs?: number } = {}) {
  const clock = new ManualClock(START);
  const rounds: number[] = [];
  const state = { failing: false, gate: null as Promise<void> | null };
  const { log, lines } = recordingLog();
  const w = new ClockWorker({
    name: "test",
    clock,
    log,
    pollMs: opts.pollMs ?? 1_000,
    maxBackoffMs: opts.maxBackoffMs ?? 8_000,
    runDue: async (now) => {
      rounds.push(now);
      if (state.gate) await state.gate;
      if (state.failing) throw new Error("database down");
    },
  });
  return { w, clock, rounds, state, lines };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ClockWorker", () => {
  it("does nothing until started; a wake runs a round at the clock's now; then it polls", async () => {
    const { w, clock, rounds } = worker({ pollMs: 1_000 });
    w.wake();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(rounds).toEqual([]);

    w.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toEqual([START]);
    clock.advance(60_000);
    w.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toEqual([START, START + 60_000]);
    // Then every pollMs, not before.
    await vi.advanceTimersByTimeAsync(999);
    expect(rounds).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(rounds).toHaveLength(6);
    await w.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rounds).toHaveLength(6);
  });

  it("a wake during a round runs one more round right after it, not two at once", async () => {
    const { w, rounds, state } = worker();
    let release: () => void = () => {};
    state.gate = new Promise((resolve) => {
      release = resolve;
    });
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    w.wake();
    w.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toHaveLength(1);
    state.gate = null;
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toHaveLength(2);
    await w.stop();
  });

  it("backs off while rounds fail (doubling up to the ceiling), logs it, and resumes by itself", async () => {
    const { w, rounds, state, lines } = worker({ pollMs: 1_000, maxBackoffMs: 4_000 });
    state.failing = true;
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toHaveLength(1);
    expect(w.nextPollMs).toBe(2_000);
    // Waits 2 s, then 4 s, then 4 s (the ceiling).
    await vi.advanceTimersByTimeAsync(1_999);
    expect(rounds).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toHaveLength(2);
    expect(w.nextPollMs).toBe(4_000);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(rounds).toHaveLength(3);
    expect(w.nextPollMs).toBe(4_000);
    // A wake still runs a round (a commit just went through: the database may be back); the
    // backoff then holds.
    w.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(3_999);
    expect(rounds).toHaveLength(4);
    expect(lines.filter((line) => line === "error test worker failed; backing off")).toHaveLength(4);

    state.failing = false;
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toHaveLength(5);
    expect(w.nextPollMs).toBe(1_000);
    expect(lines.at(-1)).toBe("info test worker resumed");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rounds).toHaveLength(6);
    await w.stop();
  });

  it("runDue(now) runs one round at that instant and never throws", async () => {
    const { w, rounds, state } = worker();
    await w.runDue(START + 5);
    state.failing = true;
    await expect(w.runDue()).resolves.toBeUndefined();
    expect(rounds).toEqual([START + 5, START]);
    expect(w.nextPollMs).toBe(2_000);
  });

  it("stop waits for the running round, and no round starts after it", async () => {
    const { w, rounds, state } = worker();
    let release: () => void = () => {};
    state.gate = new Promise((resolve) => {
      release = resolve;
    });
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toHaveLength(1);
    let stopped = false;
    const stopping = w.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
    w.wake();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rounds).toHaveLength(1);
  });
});
