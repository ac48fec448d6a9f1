import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLockedMaria,
  maria,
  NEW_PASSWORD,
  type TestApp,
  testApp,
  testDialect,
} from "../../test/helpers.js";

/**
 * On SQLite a statement that needs a temporary table (a RETURNING clause, `IN (select …)`, an UPDATE
 * that searches an index holding a column it changes) opens a b-tree, with a page cache of its own,
 * and drops it again, in every run: a few µs each, on the path of every request of a recovery.
 */
describe.skipIf(testDialect !== "sqlite")("a recovery's statements on SQLite", () => {
  let t: TestApp;
  const statements = new Set<string>();
  beforeAll(async () => {
    t = await testApp({}, { onStatement: (sql) => statements.add(sql) });
    await createLockedMaria(t);
  });
  afterAll(() => t.close());

  const post = async (url: string, payload: object, status: number) => {
    const response = await t.server.inject({ method: "POST", url, payload });
    expect(response.statusCode, response.body).toBe(status);
    return response.json();
  };

  it("build no temporary table, from the start to the new password, for known and unknown addresses", async () => {
    statements.clear();
    const { recoveryId } = await post("/api/v1/recovery", { address: maria.address }, 201);
    const { recoveryId: strangers } = await post("/api/v1/recovery", { address: "nobody@mail.example" }, 201);
    for (const id of [recoveryId, strangers])
      for (const value of ["wrong@mail.example", "maria-rosa@gmail.example", "maria-rosa@gmail.example"])
        await post(`/api/v1/recovery/${id}/channel`, { kind: "email", value }, 202);
    const code = await t.lastCodeFor("maria-rosa@gmail.example");
    await post(`/api/v1/recovery/${recoveryId}/code`, { code: code === "000000" ? "111111" : "000000" }, 400);
    const { passwordToken } = await post(`/api/v1/recovery/${recoveryId}/code`, { code }, 200);
    await post(`/api/v1/recovery/${recoveryId}/password`, { password: NEW_PASSWORD, passwordToken }, 200);

    // Every statement of those steps ran on the connection directly (all of them are prepared).
    expect(statements.size).toBeGreaterThan(10);
    // The outbox's claim is the dispatcher's, once a round, for up to 20 messages: it keeps its
    // RETURNING (the rows it claimed), where one UPDATE a row would cost more.
    const ofRequests = [...statements].filter(
      (sql) => !sql.startsWith('update "outbox" set "claimed_until"'),
    );
    expect(ofRequests.length).toBe(statements.size - 1);
    const building = ofRequests.filter((sql) => {
      const parameters = sql.split("?").length - 1;
      const program = t.database.statementOf!(`explain ${sql}`).all(...Array(parameters).fill(null)) as {
        opcode: string;
      }[];
      return program.some((step) => step.opcode === "OpenEphemeral");
    });
    expect(building).toEqual([]);
  });
});
