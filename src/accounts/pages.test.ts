import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  auth,
  createAccount,
  formClient,
  maria,
  STRONG_PASSWORD,
  type TestApp,
  testApp,
} from "../../test/helpers.js";
import { fr } from "../platform/locales/fr.js";

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
  await createAccount(t, { ...maria, displayName: "Maria-Rosa" });
});
afterEach(() => t.close());

describe("sign-in page", () => {
  it("says what each empty or incomplete field expects, before looking anything up", async () => {
    const browser = formClient(t);
    const page = await browser.get("/signin?lang=fr");
    expect(browser.jar.has("sesame_device")).toBe(false);
    const cases = [
      { address: "", password: STRONG_PASSWORD, message: fr["signin.address.missing"], field: "address" },
      {
        address: "maria-rosa",
        password: STRONG_PASSWORD,
        message: fr["signin.address.incomplete"],
        field: "address",
      },
      { address: maria.address, password: "", message: fr["signin.password.missing"], field: "password" },
    ];
    expect(page.statusCode).toBe(200);
    for (const { address, password, message, field } of cases) {
      const answer = await browser.post("/signin", { lang: "fr", address, password });
      expect(answer.statusCode, message).toBe(400);
      expect(answer.body.replaceAll("&#x27;", "'").replaceAll("&#39;", "'")).toContain(message);
      expect(answer.body).not.toContain("Adresse e-mail ou mot de passe");
      expect(answer.body).toMatch(new RegExp(`id="${field}"[^>]*aria-invalid="true"`));
    }
    expect(fr["signin.address.incomplete"]).toContain("@exemple.be");
    const audit = await t.server.inject({ url: `/api/v1/accounts/${maria.address}/audit`, headers: auth });
    expect(audit.json().events.map((e: { type: string }) => e.type)).toEqual(["account.created"]);
  });

  it("leads to the account page, which shows the account and signs out", async () => {
    const browser = formClient(t);
    await browser.get("/signin?lang=fr");
    const signedIn = await browser.post("/signin", {
      lang: "fr",
      address: maria.address,
      password: STRONG_PASSWORD,
    });
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe("/account?lang=fr");
    expect(browser.attributes.get("sesame_session")).toMatch(/Max-Age=2592000\b/);
    expect(browser.attributes.get("sesame_session")).toMatch(/HttpOnly/);
    expect(browser.jar.get("sesame_device")).toMatch(/^d1\./);

    const page = await browser.get("/account?lang=fr");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(maria.address);
    expect(page.body).toContain(fr["account.status.active"]);
    expect(page.body).toMatch(/m[^@<]*a@g[^.<]*l\.example/);
    expect(page.body).not.toContain("maria-rosa@gmail.example");
    expect(page.body).toContain('action="/signout"');
    expect(page.body).toContain('href="/?lang=fr"');

    const signedOut = await browser.post("/signout", { lang: "fr" });
    expect(signedOut.statusCode).toBe(200);
    expect(signedOut.body).toContain(fr["account.signedout.title"]);
    expect(browser.jar.get("sesame_session")).toBe("");
    const after = await browser.get("/account?lang=fr");
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe("/signin?lang=fr");
  });

  it("revokes the session on sign-out, not only the cookie", async () => {
    const browser = formClient(t);
    await browser.get("/signin?lang=en");
    await browser.post("/signin", { address: maria.address, password: STRONG_PASSWORD });
    const session = browser.jar.get("sesame_session")!;
    await browser.get("/account");
    await browser.post("/signout", {});
    const check = await t.server.inject({
      url: "/api/v1/session",
      headers: { authorization: `Bearer ${session}` },
    });
    expect(check.statusCode).toBe(401);
  });

  it("answers the throttle with 423 and Retry-After, right password or not", async () => {
    const browser = formClient(t);
    await browser.get("/signin?lang=fr");
    for (let i = 0; i < 10; i++)
      expect(
        (await browser.post("/signin", { lang: "fr", address: maria.address, password: `x${i}` })).statusCode,
      ).toBe(401);
    const right = await browser.post("/signin", {
      lang: "fr",
      address: maria.address,
      password: STRONG_PASSWORD,
    });
    const wrong = await browser.post("/signin", { lang: "fr", address: maria.address, password: "nope" });
    for (const answer of [right, wrong]) {
      expect(answer.statusCode).toBe(423);
      expect(answer.headers["retry-after"]).toBe("60");
    }
    const csrfless = (body: string) => body.replace(/name="_csrf" value="[^"]+"/g, "");
    expect(csrfless(right.body)).toBe(csrfless(wrong.body));
  });

  it("shows the sign-in again with a fresh form when the form went stale, and that form works", async () => {
    const browser = formClient(t);
    await browser.get("/signin?lang=fr");
    browser.jar.delete("_csrf"); // a restart or a tab left open: the form's token no longer matches
    const stale = await browser.post("/signin", {
      lang: "fr",
      address: maria.address,
      password: STRONG_PASSWORD,
    });
    expect(stale.statusCode).toBe(403);
    expect(stale.body).toContain('action="/signin"');
    expect(stale.body.replaceAll("&#x27;", "'")).toContain(fr["form.renewed"]);
    expect(stale.body).not.toContain(fr["error.ERR_CSRF"]);
    expect(browser.jar.has("sesame_session")).toBe(false);
    const again = await browser.post("/signin", {
      lang: "fr",
      address: maria.address,
      password: STRONG_PASSWORD,
    });
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe("/account?lang=fr");
  });

  it("mentions the open support case on the account page", async () => {
    const browser = formClient(t);
    await browser.get("/signin?lang=fr");
    await browser.post("/signin", { lang: "fr", address: maria.address, password: STRONG_PASSWORD });
    expect((await browser.get("/account?lang=fr")).body).not.toContain("SES-");

    const { recoveryId } = (
      await t.server.inject({ method: "POST", url: "/api/v1/recovery", payload: { address: maria.address } })
    ).json();
    const opened = await t.server.inject({
      method: "POST",
      url: `/api/v1/recovery/${recoveryId}/no-access`,
      payload: { contactEmail: "maria.help@proximus.example" },
    });
    const { caseRef } = opened.json();
    expect(caseRef).toMatch(/^SES-/);
    const page = await browser.get("/account?lang=fr");
    expect(page.body.replaceAll("&#x27;", "'")).toContain(fr["account.case"].replace("{ref}", caseRef));
  });
});
