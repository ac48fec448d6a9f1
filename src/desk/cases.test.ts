import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLockedMaria, maria, type TestApp, testApp } from "../../test/helpers.js";
import { maskAlternate } from "../accounts/model.js";
import { en } from "../platform/locales/en.js";
import { MAILED_CONTACTS_PER_CASE } from "./cases.js";

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
  await createLockedMaria(t);
});
afterEach(() => t.close());

const post = (url: string, payload: object) => t.server.inject({ method: "POST", url, payload });
/** "I can't reach any of these" from a recovery of its own, as each person would do. */
const reportNoAccess = async (contactEmail: string, address = maria.address) => {
  const id = (await post("/api/v1/recovery", { address })).json().recoveryId;
  const response = await post(`/api/v1/recovery/${id}/no-access`, { contactEmail });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().caseRef as string;
};
const mailsTo = async (recipient: string) => (await t.messages()).filter((m) => m.recipient === recipient);
/** A batch of mails is delivered in no set order: each mail is found by what it is. */
const mailTo = async (
  recipient: string,
  subjectKey: "mail.case.subject" | "mail.case.contact_added.subject",
) => (await mailsTo(recipient)).find((m) => m.subject?.startsWith(en[subjectKey].split("{")[0]!));
const statusLinkOf = (body: string) =>
  /http:\/\/sesame\.test(\/cases\/SES-\w{4}-\w{4}\?token=[\w-]+&lang=\w+)/.exec(body)?.[1];

describe("contacts of a case", () => {
  it("are added, never replaced, and the first contact hears of a newcomer without their address", async () => {
    const ref = await reportNoAccess("maria.work@company.example");
    expect(await reportNoAccess("intruder@evil.example")).toBe(ref);

    const kase = await t.database.db.selectFrom("cases").selectAll().executeTakeFirstOrThrow();
    expect(kase.contact_email).toBe("maria.work@company.example");
    const contacts = await t.database.db
      .selectFrom("case_contacts")
      .selectAll()
      .orderBy("created_at")
      .execute();
    expect(contacts.map((c) => [c.email, c.via, c.verified])).toEqual([
      ["maria.work@company.example", "recovery_no_access", 0],
      ["intruder@evil.example", "recovery_no_access", 0],
    ]);

    const toFirst = await mailsTo("maria.work@company.example");
    expect(toFirst).toHaveLength(2);
    const notice = (await mailTo("maria.work@company.example", "mail.case.contact_added.subject"))!;
    expect(notice.subject).toContain(ref);
    expect(notice.body).toContain(maskAlternate("email", "intruder@evil.example"));
    expect(notice.body).not.toContain("intruder@evil.example");
    expect(await mailsTo("intruder@evil.example")).toHaveLength(1);
  });

  it("tell the first contact at most once an hour, so a stranger adding contacts cannot flood it", async () => {
    await reportNoAccess("maria.work@company.example");
    for (const newcomer of ["a@evil.example", "b@evil.example", "c@evil.example"])
      await reportNoAccess(newcomer);
    expect(await mailsTo("maria.work@company.example")).toHaveLength(2);
    expect(await t.database.db.selectFrom("case_contacts").selectAll().execute()).toHaveLength(4);
    t.clock.advance(60 * 60 * 1000 + 1);
    await reportNoAccess("d@evil.example");
    expect(await mailsTo("maria.work@company.example")).toHaveLength(3);
  });

  it("take one contact per recovery, so a recovery id cannot relay our mail to a list", async () => {
    const id = (await post("/api/v1/recovery", { address: maria.address })).json().recoveryId;
    const first = await post(`/api/v1/recovery/${id}/no-access`, {
      contactEmail: "maria.work@company.example",
    });
    expect(first.statusCode).toBe(201);
    const again = await post(`/api/v1/recovery/${id}/no-access`, {
      contactEmail: "maria.work@company.example",
    });
    expect(again.json().caseRef).toBe(first.json().caseRef);
    const other = await post(`/api/v1/recovery/${id}/no-access`, { contactEmail: "victim+1@else.example" });
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe("ERR_RECOVERY_STEP");
    expect(await mailsTo("victim+1@else.example")).toEqual([]);
  });

  it("are mailed only up to ten per case; later ones are recorded for the agent", async () => {
    for (let i = 0; i < MAILED_CONTACTS_PER_CASE + 2; i++) await reportNoAccess(`someone+${i}@else.example`);
    const mailed = new Set((await t.messages()).map((m) => m.recipient));
    expect([...mailed].filter((r) => r.startsWith("someone+"))).toHaveLength(MAILED_CONTACTS_PER_CASE);
    const contacts = await t.database.db.selectFrom("case_contacts").select("email").execute();
    expect(contacts).toHaveLength(MAILED_CONTACTS_PER_CASE + 2);
  });

  it("get one acknowledgement each, however often they write", async () => {
    await reportNoAccess("maria.work@company.example");
    await reportNoAccess("maria.work@company.example");
    await reportNoAccess("maria.work@company.example");
    expect(await mailsTo("maria.work@company.example")).toHaveLength(1);
    expect(await t.database.db.selectFrom("case_contacts").selectAll().execute()).toHaveLength(1);
  });

  it("are never mailed text that the requester typed", async () => {
    const phishing = "free-prize.claim-now.www-evil-example@login-here.example";
    await reportNoAccess("victim@company.example", phishing);
    const [ack] = await mailsTo("victim@company.example");
    expect(ack!.body).not.toContain("free-prize");
    expect(ack!.subject).not.toContain("free-prize");
    expect(ack!.body).toMatch(/SES-\w{4}-\w{4}/);
  });

  it("each have their own status link that shows only what was written to them; the reference grants nothing", async () => {
    const ref = await reportNoAccess("maria.work@company.example");
    await reportNoAccess("other@family.example");
    const firstLink = statusLinkOf((await mailTo("maria.work@company.example", "mail.case.subject"))!.body)!;
    const otherLink = statusLinkOf((await mailTo("other@family.example", "mail.case.subject"))!.body)!;
    expect(firstLink).not.toBe(otherLink);

    const first = await t.server.inject({ url: firstLink });
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain(ref);
    expect(first.body).toContain("Another contact was added");
    const other = await t.server.inject({ url: otherLink });
    expect(other.statusCode).toBe(200);
    expect(other.body).toContain(ref);
    expect(other.body).not.toContain("Another contact was added");
    for (const page of [first.body, other.body]) {
      expect(page).not.toContain("maria.work@company.example");
      expect(page).not.toContain("other@family.example");
    }

    for (const guess of [ref, "", "x".repeat(43)]) {
      const refused = await t.server.inject({ url: `/cases/status?token=${guess}&lang=fr` });
      expect(refused.statusCode).toBe(404);
      expect((await t.server.inject({ url: `/cases/${ref}?token=${guess}&lang=fr` })).statusCode).toBe(404);
    }
    // Another case's reference with a valid token shows nothing either.
    expect((await t.server.inject({ url: firstLink.replace(ref, "SES-2222-2222") })).statusCode).toBe(404);
    // Tokens are kept only as HMACs.
    const token = new URL(`http://x${firstLink}`).searchParams.get("token")!;
    const stored = JSON.stringify(await t.database.db.selectFrom("case_contacts").selectAll().execute());
    expect(stored).not.toContain(token);
  });
});
