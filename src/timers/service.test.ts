import { afterEach, describe, expect, it } from "vitest";
import { auth, freshDatabase, logSink, testApp } from "../../test/helpers.js";
import { ManualClock, MINUTE } from "../platform/clock.js";
import { type FiringTimer, TimerService } from "./service.js";

const START = Date.UTC(2026, 10, 26, 9);

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A logger that keeps what was logged at error level. */
const recordingLog = () => {
  const errors: Array<Record<string, unknown>> = [];
  const log = { warn() {}, info() {}, error: (fields: Record<string, unknown>) => errors.push(fields) };
  return { log: log as never, errors };
};

async function setup(settings: ConstructorParameters<typeof TimerService>[1] = {}) {
  const database = await freshDatabase();
  cleanup.push(() => database.drop());
  const clock = new ManualClock(START);
  const { log, errors } = recordingLog();
  const timers = new TimerService({ db: database.db, dialect: database.dialect, clock, log }, settings);
  const fired: FiringTimer[] = [];
  timers.on("sla.first_response", async (_tx, timer) => void fired.push(timer));
  return { database, clock, timers, fired, errors };
}

class Rollback extends Error {}

describe("setting timers", () => {
  it("schedule, move and cancel happen with the caller's transaction: a rollback leaves nothing", async () => {
    const { database, timers } = await setup();
    await timers.schedule(database.db, "sla.first_response", "case-1", START + 10 * MINUTE);
    await expect(
      database.db.transaction().execute(async (tx) => {
        await timers.schedule(tx, "sla.next_update", "case-1", START + 5 * MINUTE);
        await timers.schedule(tx, "sla.first_response", "case-1", START + 99 * MINUTE);
        await timers.schedule(tx, "sla.resolution", "case-2", START + 5 * MINUTE);
        await timers.cancelAll(tx, "case-1");
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    expect(await timers.due(database.db, "case-1")).toEqual([
      { kind: "sla.first_response", dueAt: START + 10 * MINUTE },
    ]);
    expect(await timers.due(database.db, "case-2")).toEqual([]);
  });

  it("one timer per kind and subject: scheduling again moves it; cancel and cancelAll remove", async () => {
    const { database, timers } = await setup();
    await database.db.transaction().execute(async (tx) => {
      await timers.schedule(tx, "sla.first_response", "case-1", START + 10 * MINUTE);
      await timers.schedule(tx, "sla.resolution", "case-1", START + 60 * MINUTE);
      await timers.schedule(tx, "sla.first_response", "case-2", START + 10 * MINUTE);
    });
    await timers.schedule(database.db, "sla.first_response", "case-1", START + 30 * MINUTE);
    expect(await timers.due(database.db, "case-1")).toEqual([
      { kind: "sla.first_response", dueAt: START + 30 * MINUTE },
      { kind: "sla.resolution", dueAt: START + 60 * MINUTE },
    ]);
    await timers.cancel(database.db, "sla.resolution", "case-1");
    expect(await timers.due(database.db, "case-1")).toEqual([
      { kind: "sla.first_response", dueAt: START + 30 * MINUTE },
    ]);
    await timers.cancelAll(database.db, "case-1");
    expect(await timers.due(database.db, "case-1")).toEqual([]);
    expect(await timers.due(database.db, "case-2")).toHaveLength(1);
  });

  it("scheduleAll sets several timers in one call, moves one already set, and commits with the caller", async () => {
    const { database, timers, fired } = await setup();
    await timers.schedule(database.db, "sla.first_response", "case-1", START + 99 * MINUTE);
    await database.db.transaction().execute((tx) =>
      timers.scheduleAll(tx, [
        { kind: "sla.first_response", subject: "case-1", dueAt: START + 10 * MINUTE, payload: { tier: 1 } },
        { kind: "sla.resolution", subject: "case-1", dueAt: START + 60 * MINUTE },
        { kind: "sla.first_response", subject: "case-2", dueAt: START + 5 * MINUTE },
        // Set twice in one call: the last wins, as one call after the other.
        { kind: "sla.first_response", subject: "case-2", dueAt: START + 20 * MINUTE },
      ]),
    );
    expect(await timers.due(database.db, "case-1")).toEqual([
      { kind: "sla.first_response", dueAt: START + 10 * MINUTE },
      { kind: "sla.resolution", dueAt: START + 60 * MINUTE },
    ]);
    await expect(
      database.db.transaction().execute(async (tx) => {
        await timers.scheduleAll(tx, [
          { kind: "sla.resolution", subject: "case-2", dueAt: START },
          { kind: "sla.resolution", subject: "case-3", dueAt: START },
        ]);
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    expect(await timers.due(database.db, "case-2")).toEqual([
      { kind: "sla.first_response", dueAt: START + 20 * MINUTE },
    ]);
    expect(await timers.due(database.db, "case-3")).toEqual([]);
    // The moved timer fires once, at its new instant, with its new payload.
    expect(await timers.runDue(START + 10 * MINUTE)).toBe(1);
    expect(fired).toMatchObject([{ subject: "case-1", dueAt: START + 10 * MINUTE, payload: { tier: 1 } }]);
  });
});

describe("firing", () => {
  it("fires once, at or after its instant, with its payload", async () => {
    const { database, timers, fired } = await setup();
    await timers.schedule(database.db, "sla.first_response", "case-1", START + 10 * MINUTE, { tier: 2 });
    expect(await timers.runDue(START + 10 * MINUTE - 1)).toBe(0);
    expect(fired).toEqual([]);
    expect(await timers.runDue(START + 12 * MINUTE)).toBe(1);
    expect(fired).toMatchObject([
      {
        kind: "sla.first_response",
        subject: "case-1",
        dueAt: START + 10 * MINUTE,
        payload: { tier: 2 },
        attempt: 1,
      },
    ]);
    expect(await timers.runDue(START + 60 * MINUTE)).toBe(0);
    expect(fired).toHaveLength(1);
    expect(await timers.due(database.db, "case-1")).toEqual([]);
  });

  it("fires a batch soonest first, whatever order its timers were set in", async () => {
    const { database, timers, fired } = await setup();
    for (const minutes of [30, 20, 10])
      await timers.schedule(database.db, "sla.first_response", `case-${minutes}`, START + minutes * MINUTE);
    expect(await timers.runDue(START + 30 * MINUTE)).toBe(3);
    expect(fired.map((t) => t.subject)).toEqual(["case-10", "case-20", "case-30"]);
  });

  it("a moved timer fires at its new instant only", async () => {
    const { database, timers, fired } = await setup();
    await timers.schedule(database.db, "sla.first_response", "case-1", START + 10 * MINUTE);
    await timers.schedule(database.db, "sla.first_response", "case-1", START + 20 * MINUTE);
    expect(await timers.runDue(START + 15 * MINUTE)).toBe(0);
    expect(await timers.runDue(START + 20 * MINUTE)).toBe(1);
    expect(fired.map((t) => t.dueAt)).toEqual([START + 20 * MINUTE]);
  });

  it("the handler's writes and the timer's removal commit together", async () => {
    const { database, timers } = await setup();
    timers.on("probe", async (tx, timer) => {
      await tx
        .insertInto("cap_counters")
        .values({ key: timer.subject, window_start: timer.dueAt, count: 1 })
        .execute();
    });
    await timers.schedule(database.db, "probe", "k1", START);
    expect(await timers.runDue(START)).toBe(1);
    expect(await database.db.selectFrom("cap_counters").selectAll().execute()).toEqual([
      { key: "k1", window_start: START, count: 1 },
    ]);
  });

  it("a failing handler keeps its timer (its writes undone), is logged, retried with backoff; the others fire", async () => {
    const { database, timers, fired, errors } = await setup({ pollMs: 1_000, maxBackoffMs: 4_000 });
    // Fails on its first three tries (a try may call it twice: with its batch, then alone).
    timers.on("flaky", async (tx, timer) => {
      await tx.insertInto("cap_counters").values({ key: timer.subject, window_start: 0, count: 1 }).execute();
      if (timer.attempt <= 3) throw new Error("handler down");
    });
    await timers.schedule(database.db, "flaky", "f1", START);
    await timers.schedule(database.db, "sla.first_response", "case-1", START);
    await timers.schedule(database.db, "sla.first_response", "case-2", START);

    // The two others fire although they share a batch with the failing one.
    expect(await timers.runDue(START)).toBe(2);
    expect(fired.map((t) => t.subject).sort()).toEqual(["case-1", "case-2"]);
    expect(await database.db.selectFrom("cap_counters").selectAll().execute()).toEqual([]);
    expect(errors).toMatchObject([{ kind: "flaky", attempt: 1, retryInMs: 1_000 }]);
    expect(await timers.due(database.db, "f1")).toEqual([{ kind: "flaky", dueAt: START }]);

    // Not before its backoff: 1 s, then 2 s, then 4 s (the ceiling).
    expect(await timers.runDue(START + 999)).toBe(0);
    expect(await timers.runDue(START + 1_000 + 1)).toBe(0);
    expect(errors.at(-1)).toMatchObject({ attempt: 2, retryInMs: 2_000 });
    expect(await timers.runDue(START + 1_001 + 1_999)).toBe(0);
    expect(errors).toHaveLength(2);
    expect(await timers.runDue(START + 1_001 + 2_001)).toBe(0);
    expect(errors.at(-1)).toMatchObject({ attempt: 3, retryInMs: 4_000 });
    // Then it works: fired once, its write committed.
    expect(await timers.runDue(START + 3_002 + 4_001)).toBe(1);
    expect(await database.db.selectFrom("cap_counters").select("key").execute()).toEqual([{ key: "f1" }]);
    expect(await timers.due(database.db, "f1")).toEqual([]);
  });

  it("a timer of a kind nobody handles stays, and is logged", async () => {
    const { database, timers, errors } = await setup();
    await timers.schedule(database.db, "from.a.newer.version", "x", START);
    expect(await timers.runDue(START)).toBe(0);
    expect(await timers.due(database.db, "x")).toHaveLength(1);
    expect(errors).toMatchObject([{ kind: "from.a.newer.version" }]);
  });

  it("fires everything due, batch after batch", async () => {
    const { database, timers, fired } = await setup({ batchSize: 7 });
    await database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 30; i++) await timers.schedule(tx, "sla.first_response", `case-${i}`, START + i);
    });
    expect(await timers.runDue(START + 29)).toBe(30);
    expect(new Set(fired.map((t) => t.subject)).size).toBe(30);
  });

  it("onBatch: one call per kind with every timer of that kind in the batch", async () => {
    const { database, timers, fired } = await setup({ batchSize: 10 });
    const calls: string[][] = [];
    timers.onBatch("probe", async (tx, due) => {
      calls.push(due.map((t) => t.subject).sort());
      for (const t of due)
        await tx.insertInto("cap_counters").values({ key: t.subject, window_start: 0, count: 1 }).execute();
    });
    await database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 12; i++)
        await timers.schedule(tx, "probe", `p${String(i).padStart(2, "0")}`, START);
      await timers.schedule(tx, "sla.first_response", "case-1", START);
    });
    expect(await timers.runDue(START)).toBe(13);
    expect(calls.flat().sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `p${String(i).padStart(2, "0")}`),
    );
    // 13 timers in batches of 10: the probes come in at most two calls.
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(fired.map((t) => t.subject)).toEqual(["case-1"]);
    expect(await database.db.selectFrom("cap_counters").select("key").execute()).toHaveLength(12);
  });

  it("a claim whose lease ran out is claimed again; the first claimer then fires nothing", async () => {
    const { database, timers, fired } = await setup({ leaseMs: 60_000 });
    await timers.schedule(database.db, "sla.first_response", "case-1", START);
    // Another node claimed it and vanished (its lease is in the row).
    await database.db
      .updateTable("timers")
      .set({ lease_until: START + 60_000, attempts: 1 })
      .execute();
    expect(await timers.runDue(START + 59_999)).toBe(0);
    expect(await timers.runDue(START + 60_001)).toBe(1);
    expect(fired).toMatchObject([{ subject: "case-1", attempt: 2 }]);
  });
});

describe("recurring jobs", () => {
  it("run every period, one timer each, surviving a restart", async () => {
    const { database, clock, timers } = await setup();
    const runs: number[] = [];
    timers.recurring("housekeeping:test", 10 * MINUTE, async (_tx, now) => {
      runs.push(now);
      return false;
    });
    expect(await timers.runDue(START)).toBe(0);
    expect(await timers.runDue(START + 10 * MINUTE)).toBe(1);
    expect(await timers.runDue(START + 15 * MINUTE)).toBe(0);
    // A restarted process registers the job again: its next run is not pushed back.
    const restarted = new TimerService({
      db: database.db,
      dialect: database.dialect,
      clock,
      log: recordingLog().log,
    });
    restarted.recurring("housekeeping:test", 10 * MINUTE, async (_tx, now) => {
      runs.push(now);
      return false;
    });
    expect(await restarted.runDue(START + 20 * MINUTE)).toBe(1);
    expect(runs).toEqual([START + 10 * MINUTE, START + 20 * MINUTE]);
    expect(await database.db.selectFrom("timers").select("kind").execute()).toEqual([
      { kind: "housekeeping:test" },
    ]);
  });
});

describe("in the app", () => {
  it("a timer fires within the worker's poll once the manual clock is moved past it (dev clock route)", async () => {
    // A poll far away: only the wake of the clock route can fire it in time.
    const t = await testApp({ SESAME_TIMER_POLL_MS: "600000" });
    cleanup.push(() => t.close());
    const { timers } = t.app.platform;
    const fired: string[] = [];
    timers.on("probe", async (_tx, timer) => void fired.push(timer.subject));
    await timers.schedule(t.app.platform.db, "probe", "case-1", t.clock.now() + 30 * MINUTE);
    t.app.startWorkers();
    const advance = (ms: number) =>
      t.server.inject({
        method: "POST",
        url: "/api/v1/dev/clock",
        headers: auth,
        payload: { advanceMs: ms },
      });
    expect((await advance(29 * MINUTE)).statusCode).toBe(200);
    await timers.worker.runDue(); // a round at 29 min: not yet
    expect(fired).toEqual([]);
    expect((await advance(MINUTE)).statusCode).toBe(200);
    await expect.poll(() => fired).toEqual(["case-1"]);
  });

  it("the worker logs a failing round and keeps going", async () => {
    const sink = logSink();
    const database = await freshDatabase();
    await database.drop();
    const pino = (await import("fastify")).default({ logger: { level: "error", stream: sink.stream } }).log;
    const timers = new TimerService({
      db: database.db,
      dialect: database.dialect,
      clock: new ManualClock(START),
      log: pino,
    });
    await timers.worker.runDue();
    expect(sink.text()).toMatch(/timers worker failed; backing off/);
  });
});
