import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase } from "../../test/helpers.js";
import type { Executor } from "./database.js";
import { prepared } from "./prepared.js";

describe("prepared queries", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    database = await freshDatabase();
  });
  afterAll(() => database.drop());

  const insert = prepared((db: Executor, key: string, start: number, count: number) =>
    db.insertInto("cap_counters").values({ key, window_start: start, count }),
  );
  const find = prepared((db: Executor, key: string) =>
    db
      .selectFrom("cap_counters")
      .select(["key", "window_start", "count"])
      .where("key", "=", key)
      .limit(sql.lit(1)),
  );
  const bump = prepared(
    (_db: Executor, key: string, by: number) =>
      sql<{
        count: number;
      }>`update cap_counters set count = count + ${by} where key = ${key} returning count`,
  );

  it("runs with each call's own values, in a transaction or not", async () => {
    await insert(database.db, "a", 10, 1);
    await database.db.transaction().execute(async (tx) => {
      await insert(tx, "b", 20, 2);
      expect((await find(tx, "b")).rows).toEqual([{ key: "b", window_start: 20, count: 2 }]);
    });
    expect((await find(database.db, "a")).rows).toEqual([{ key: "a", window_start: 10, count: 1 }]);
    expect((await bump(database.db, "b", 5)).rows).toEqual([{ count: 7 }]);
    expect((await find(database.db, "nobody")).rows).toEqual([]);
  });

  it("refuses a query that does not take one of its arguments as a parameter", async () => {
    const careless = prepared((db: Executor, key: string, _unused: number) =>
      db.selectFrom("cap_counters").select("key").where("key", "=", key),
    );
    await expect(careless(database.db, "a", 1)).rejects.toThrow(/argument 1 is not a parameter/);
  });
});
