import { afterEach, describe, expect } from "vitest";
import { concurrencyTest, freshDatabase } from "../../test/helpers.js";
import { systemClock } from "../platform/clock.js";
import {
  createFiringTable,
  currentSchema,
  firingSummary,
  insertProbeTimers,
  startFiringProcess,
} from "./firing-processes.js";
import { TimerService } from "./service.js";

const silent = { warn() {}, error() {}, info() {} } as never;
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const url = process.env.SESAME_TEST_DATABASE_URL ?? "";

async function sharedSchema() {
  const database = await freshDatabase();
  cleanup.push(() => database.drop());
  await createFiringTable(database.db);
  return { database, schema: await currentSchema(database.db) };
}

describe("timers fired by separate processes on one PostgreSQL database", () => {
  concurrencyTest(
    "two processes fire 2,000 timers, each exactly once",
    async () => {
      const { database, schema } = await sharedSchema();
      const now = Date.now();
      await insertProbeTimers(database.db, 2_000, now - 1_000, now);
      // Small batches, so that both processes take turns claiming.
      const processes = [0, 1].map(() => startFiringProcess({ url, schema, mode: "fire", batch: 50 }));
      cleanup.push(async () => {
        for (const p of processes) p.child.kill();
      });
      await Promise.all(processes.map((p) => p.ready));
      for (const p of processes) p.go();
      const results = await Promise.all(processes.map((p) => p.done));
      for (const result of results) expect(result.code, result.stderr).toBe(0);

      const summary = await firingSummary(database.db);
      expect(summary).toMatchObject({ total: 2_000, distinct: 2_000, duplicates: 0 });
      // Both took part: this was a race between two processes, not one doing everything.
      expect(Object.keys(summary.byPid)).toHaveLength(2);
      const left = await database.db.selectFrom("timers").select("id").execute();
      expect(left).toHaveLength(0);
    },
    60_000,
  );

  concurrencyTest(
    "a process that dies after claiming: its timers fire again after the lease, once",
    async () => {
      const { database, schema } = await sharedSchema();
      const now = Date.now();
      await insertProbeTimers(database.db, 2_000, now - 1_000, now);
      const leaseMs = 60_000;
      const dying = startFiringProcess({ url, schema, mode: "die-after-claim", batch: 300, leaseMs });
      cleanup.push(async () => void dying.child.kill());
      await dying.ready;
      dying.go();
      const died = await dying.done;
      expect(died.code, died.stderr).toBe(3);
      const claimed = (died.output[0] as { claimed: string[] }).claimed;
      expect(claimed).toHaveLength(300);
      // Its firings were never committed.
      expect((await firingSummary(database.db)).total).toBe(0);

      const survivor = new TimerService(
        { db: database.db, dialect: database.dialect, clock: systemClock, log: silent },
        { leaseMs },
      );
      const firings: string[] = [];
      survivor.on("probe", async (_tx, timer) => void firings.push(timer.subject));

      // While the dead process's lease holds, its 300 stay put; the other 1,700 fire.
      const at = Date.now();
      expect(await survivor.runDue(at)).toBe(1_700);
      expect(firings.filter((subject) => claimed.includes(subject))).toEqual([]);
      // Once the lease ran out, they fire: once.
      expect(await survivor.runDue(at + leaseMs + 1)).toBe(300);
      expect(await survivor.runDue(at + 2 * leaseMs + 2)).toBe(0);
      expect(new Set(firings).size).toBe(2_000);
      expect(firings).toHaveLength(2_000);
    },
    60_000,
  );
});
