import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { fr } from "../src/platform/locales/fr.js";
import { browserTestsRun, expectUsable, JOURNEY, servedPages } from "./chromium.js";
import { auth, type TestApp } from "./helpers.js";

/**
 * The customer's side of the desk as a French speaker in Belgium meets it, in Chromium with
 * JavaScript off on a 390 px screen: the help centre's contact options, the contact form, the status
 * page behind the mail's link with its reply box, and the satisfaction survey. Axe checks each page.
 */
const WIDTH = 390;

describe.runIf(browserTestsRun("test/desk.browser.test.ts"))(
  "the customer's side of the desk",
  JOURNEY,
  () => {
    let browser: Browser;
    let page: Page;
    let t: TestApp;
    let origin: string;
    servedPages({ width: WIDTH }, (served) => {
      ({ browser, page, t, origin } = served);
    });

    const heading = () => page.locator("main h1").textContent();
    const check = (name: string) => expectUsable(browser, page, `desk-${name}`, WIDTH);
    const lastMailTo = async (recipient: string) =>
      (await t.messages()).filter((m) => m.recipient === recipient).at(-1)?.body ?? "";
    const local = (body: string, path: RegExp) => {
      const found = path.exec(body)?.[0];
      if (!found) throw new Error(`no link in: ${body}`);
      return `${origin}${found}`;
    };

    it("writes to support, follows the case from the mail's link, answers, and rates the help", async () => {
      await page.goto(`${origin}/?lang=fr`);
      expect(await page.locator("main").textContent()).toContain("belux@support.example");
      await check("help-centre");

      await page.getByRole("link", { name: fr["desk.contact.title"], exact: true }).click();
      await page.waitForURL(`${origin}/contact?lang=fr`);
      expect(await page.locator("#country").inputValue()).toBe("BE");
      await check("contact");
      await page.fill("#contactEmail", "marie@example.be");
      await page.fill("#subject", "Ma boîte est bloquée");
      await page.fill("#body", "Depuis un virus, je ne peux plus lire mes mails.");
      await page.getByRole("button", { name: fr["desk.contact.submit"], exact: true }).click();
      await page.waitForLoadState("load");
      expect(await heading()).toBe(fr["desk.contact.sent.title"]);
      const sent = (await page.getByRole("status").textContent()) ?? "";
      const ref = /SES-\w{4}-\w{4}/.exec(sent)?.[0];
      expect(ref).toBeDefined();
      expect(sent).toContain("jeudi 26 novembre à 14:00");
      await check("contact-sent");

      await page.goto(local(await lastMailTo("marie@example.be"), /\/cases\/SES-[^\s]+/));
      expect(await heading()).toBe(fr["cases.status.title"]);
      expect(await page.locator("main").textContent()).toContain(fr["desk.status.state.open"]);
      await check("status");
      await page.fill("#body", "J'ai aussi changé de téléphone.");
      await page.getByRole("button", { name: fr["desk.status.reply.submit"], exact: true }).click();
      await page.waitForLoadState("load");
      expect(await page.getByRole("status").first().textContent()).toBe(fr["desk.status.reply.sent"]);
      expect(await page.locator("ul.timeline").textContent()).toContain("J'ai aussi changé de téléphone.");
      await check("status-replied");

      const detail = await t.server.inject({ url: `/api/v1/cases/${ref}`, headers: auth });
      expect(detail.json().timeline.filter((e: { type: string }) => e.type === "message_in")).toHaveLength(2);

      // Resolved by the desk; a day later the survey, whose link works once.
      await t.app.services.desk.resolve({ kind: "service" }, ref!);
      t.clock.advance(24 * 3_600_000 + 1000);
      await t.app.platform.timers.runDue();
      await page.goto(local(await lastMailTo("marie@example.be"), /\/survey\?[^\s]+/));
      expect(await heading()).toBe(fr["desk.survey.title"]);
      await check("survey");
      await page.getByLabel("5", { exact: true }).check();
      await page.fill("#comment", "Merci, enfin quelqu'un.");
      await page.getByRole("button", { name: fr["desk.survey.submit"], exact: true }).click();
      await page.waitForLoadState("load");
      expect(await page.getByRole("status").textContent()).toBe(fr["desk.survey.thanks"]);
      await page.goBack();
      await page.reload();
      expect(await page.getByRole("status").textContent()).toBe(fr["desk.survey.spent"]);
    });
  },
);
