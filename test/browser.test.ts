import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { fr } from "../src/platform/locales/fr.js";
import { browserTestsRun, servedPages } from "./chromium.js";
import { auth, createLockedMaria, maria, NEW_PASSWORD, STRONG_PASSWORD, type TestApp } from "./helpers.js";

/**
 * The story's French recovery, in a real browser with JavaScript turned off: every step must work
 * as a plain HTML form with redirects. The app runs on a real port with the manual clock and the
 * recording transports of testApp(), so codes are read from what was "delivered".
 */

const BACKUP = "maria-rosa@gmail.example";
const SCREENSHOT = "/tmp/sesame-recovery-done.png";

// On CI a missing browser is a failure, not a silent skip.
describe.runIf(browserTestsRun("test/browser.test.ts"))(
  "French recovery in a browser without JavaScript",
  () => {
    let page: Page;
    let t: TestApp;
    let origin: string;
    servedPages({ prepare: createLockedMaria }, (served) => {
      ({ page, t, origin } = served);
    });

    const heading = () => page.locator("main h1").textContent();
    const recoveryIdOf = (url: string) => /\/recover\/([^/]+)\//.exec(new URL(url).pathname)?.[1] ?? "";

    /** Start page -> channel page, checking on the way that the site speaks French. */
    async function startRecovery(): Promise<string> {
      await page.goto(`${origin}/recover?lang=fr`);
      expect(await page.locator("html").getAttribute("lang")).toBe("fr");
      expect(await heading()).toBe(fr["recover.start.title"]);
      await page.fill("#address", maria.address);
      await page.getByRole("button", { name: fr["recover.start.submit"] }).click();
      await page.waitForURL(/\/recover\/[^/]+\/channel\?lang=fr$/);
      expect(await heading()).toBe(fr["recover.channel.title"]);
      return recoveryIdOf(page.url());
    }

    it("recovers Maria's account by her backup mail, the mail link only showing a confirmation", async () => {
      const id = await startRecovery();
      expect(id).not.toBe("");

      await page.fill("#value", BACKUP);
      await page.getByRole("button", { name: fr["recover.channel.submit"] }).click();
      await page.waitForURL(`${origin}/recover/${id}/code?lang=fr`);
      expect(await heading()).toBe(fr["recover.code.title"]);

      const code = await t.lastCodeFor(BACKUP);
      expect(code).toMatch(/^\d{6}$/);

      // A wrong code: French error with the tries left, and the person stays on the code step.
      const wrong = code === "000000" ? "111111" : "000000";
      await page.fill("#code", wrong);
      const refused = page.waitForResponse((r) => r.request().method() === "POST");
      await page.getByRole("button", { name: fr["recover.code.submit"] }).click();
      expect((await refused).status()).toBe(400);
      expect(new URL(page.url()).pathname).toBe(`/recover/${id}/code`);
      expect(await heading()).toBe(fr["recover.code.title"]);
      expect(await page.getByRole("alert").textContent()).toBe(
        fr["error.ERR_CODE_INVALID"].replace("{attemptsLeft}", "4"),
      );
      expect((await t.app.services.recovery.view(id)).state).toBe("enter_code");

      // The link of the mail, pointed at the real listening origin instead of PUBLIC_URL.
      const mail = t.mail.delivered.filter((m) => m.recipient === BACKUP).at(-1)!;
      const mailed = /http:\/\/sesame\.test\/recover\/\S+/.exec(mail.body)?.[0];
      expect(mailed).toBeDefined();
      const link = new URL(mailed!.replace("http://sesame.test", origin));
      // The link carries a long token, neither the code nor the recovery id.
      expect(link.pathname).toBe("/recover/link");
      expect(link.href).not.toContain(id);
      expect(link.href).not.toContain(code!);

      // A mail scanner pre-fetching the link (no cookies, no form) must not use up the code...
      expect((await fetch(link)).status).toBe(200);
      // ...nor must the person merely opening it: a confirmation waits for "Continuer".
      await page.goto(link.href);
      expect(await heading()).toBe(fr["recover.link.title"]);
      expect((await t.app.services.recovery.view(id)).state).toBe("enter_code");

      await page.getByRole("button", { name: fr["recover.link.submit"] }).click();
      await page.waitForURL(`${origin}/recover/${id}/password?lang=fr`);
      expect(await heading()).toBe(fr["recover.password.title"]);

      await page.fill("#password", NEW_PASSWORD);
      await page.fill("#confirmation", NEW_PASSWORD);
      await page.getByRole("button", { name: fr["recover.password.submit"] }).click();
      await page.waitForURL(`${origin}/recover/${id}/done?lang=fr`);
      expect(await page.locator("html").getAttribute("lang")).toBe("fr");
      expect(await heading()).toBe(fr["recover.done.title"]);
      expect(await page.locator(".notice").textContent()).toBe(fr["recover.done.body"]);
      expect(await page.getByRole("link", { name: fr["recover.done.signin"] }).getAttribute("href")).toBe(
        "/signin?lang=fr",
      );
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      // The browser's journey really unlocked the account and changed the password.
      const account = await t.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
      expect(account.json()).toMatchObject({ status: "active" });
      expect(account.json().lock).toBeUndefined();
      const signin = (password: string) =>
        t.server.inject({
          method: "POST",
          url: "/api/v1/signin",
          payload: { address: maria.address, password },
        });
      expect((await signin(NEW_PASSWORD)).statusCode).toBe(200);
      expect((await signin(STRONG_PASSWORD)).statusCode).toBe(401);
    });

    it("opens a support case with a reference when none of the backups can be reached", async () => {
      const id = await startRecovery();

      await page.getByRole("link", { name: fr["recover.channel.noaccess"] }).click();
      await page.waitForURL(`${origin}/recover/${id}/no-access?lang=fr`);
      expect(await heading()).toBe(fr["recover.noaccess.title"]);

      await page.fill("#contactEmail", "maria.work@company.example");
      await page.getByRole("button", { name: fr["recover.noaccess.submit"] }).click();
      await page.waitForURL(`${origin}/recover/${id}/case?lang=fr`);
      expect(await heading()).toBe(fr["recover.case.title"]);

      const shown = (await page.locator(".ref").textContent()) ?? "";
      const ref = /SES-[A-Z0-9]{4}-[A-Z0-9]{4}/.exec(shown)?.[0];
      expect(ref).toBeDefined();
      expect(shown).toBe(fr["recover.case.ref"].replace("{ref}", ref!));
      // Plain words on when they will hear from us; the contact address shown masked.
      expect(await page.locator("main").textContent()).toContain(
        "vous écrira à m••••k@c••••y.example d'ici jeudi 26 novembre à 14:00",
      );
      expect(await page.locator("main").textContent()).not.toContain("maria.work@company.example");

      // The reference on screen is the case on file, and the contact address got it by mail.
      const kase = await t.database.db.selectFrom("cases").selectAll().executeTakeFirstOrThrow();
      expect(kase.ref).toBe(ref);
      const messages = await t.messages();
      expect(messages.map((m) => m.recipient)).toEqual(["maria.work@company.example"]);
      expect(messages[0]!.body).toContain(ref!);
    });
  },
);
