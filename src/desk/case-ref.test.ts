import { afterEach, expect, it, vi } from "vitest";
import { type TestApp, testApp } from "../../test/helpers.js";

// The references drawn, in order: the second case's first draw is the first case's reference.
const drawn = vi.hoisted(() => ["SES-AAAA-AAAA", "SES-AAAA-AAAA", "SES-BBBB-BBBB"]);
vi.mock("../platform/ids.js", async (original) => ({
  ...(await original<typeof import("../platform/ids.js")>()),
  newCaseRef: () => drawn.shift() ?? "SES-ZZZZ-ZZZZ",
}));

let t: TestApp;
afterEach(() => t?.close());

const openCase = (contactEmail: string) =>
  t.server.inject({
    method: "POST",
    url: "/api/v1/cases",
    payload: { contactEmail, language: "fr", country: "BE", subject: "Ma boîte", body: "Bloquée." },
  });

it("draws another reference when the one drawn is taken, and writes nothing twice", async () => {
  t = await testApp();
  const first = await openCase("marie@example.be");
  expect(first.statusCode, first.body).toBe(201);
  expect(first.json().ref).toBe("SES-AAAA-AAAA");
  const second = await openCase("jan@example.be");
  expect(second.statusCode, second.body).toBe(201);
  expect(second.json().ref).toBe("SES-BBBB-BBBB");

  const cases = await t.database.db
    .selectFrom("cases")
    .select(["ref", "contact_email"])
    .orderBy("ref")
    .execute();
  expect(cases).toEqual([
    { ref: "SES-AAAA-AAAA", contact_email: "marie@example.be" },
    { ref: "SES-BBBB-BBBB", contact_email: "jan@example.be" },
  ]);
  // The second case's acknowledgement names the reference it was given.
  const mail = (await t.messages()).find((m) => m.recipient === "jan@example.be");
  expect(mail?.subject).toContain("SES-BBBB-BBBB");
});
