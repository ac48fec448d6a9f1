import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type Locale, locales, translator } from "../src/platform/i18n.js";
import type { MessageKey } from "../src/platform/locales/en.js";
import { fr } from "../src/platform/locales/fr.js";
import { browserTestsRun, JOURNEY, servedPages } from "./chromium.js";
import {
  auth,
  createAccount,
  createLockedMaria,
  maria,
  NEW_PASSWORD,
  STRONG_PASSWORD,
  type TestApp,
} from "./helpers.js";

/**
 * Issue 5, point 10: the pages as a stressed person meets them, in Chromium with JavaScript off on a
 * 390 px wide phone screen, in French. Each test looks for a symptom that was seen and asserts both
 * that the fixed text is there and that the old wrong one is not. Every step leaves a full-page
 * screenshot in test-artifacts/screenshots/ and checks the page does not scroll sideways.
 */

const WIDTH = 390;
const SHOTS = fileURLToPath(new URL("../test-artifacts/screenshots/", import.meta.url));
const BACKUP = "maria-rosa@gmail.example";
const PHONE = "+32 470 12 34 56";
/** The one masking pattern, as mails, SMS and the account page show it. */
const BACKUP_MASKED = "m••••a@g•••l.example";
const PHONE_MASKED = "+32 4•• •• •• 56";
const WORK_CONTACT = "maria.work@company.example";
const WORK_CONTACT_MASKED = "m••••k@c••••y.example";

/** The fixed part of a catalogue message, before its first placeholder (to look for the old wrong text). */
const stem = (key: MessageKey) => fr[key].split("{")[0]!.trim();

describe.runIf(browserTestsRun("test/pages.browser.test.ts"))(
  "the pages as a stressed person meets them (390 px, no JavaScript)",
  JOURNEY,
  () => {
    let context: BrowserContext;
    let page: Page;
    let t: TestApp;
    let origin: string;
    beforeAll(() => {
      mkdirSync(SHOTS, { recursive: true });
    });
    servedPages({ width: WIDTH, prepare: createLockedMaria }, (served) => {
      ({ context, page, t, origin } = served);
    });

    const heading = () => page.locator("main h1").textContent();
    const alert = () => page.getByRole("alert").textContent();
    const mainText = async () => (await page.locator("main").textContent()) ?? "";
    const recoveryIdOf = (url: string) => /\/recover\/([^/]+)\//.exec(new URL(url).pathname)?.[1] ?? "";

    /** Full-page screenshot of the step; the page must fit 390 px without sideways scrolling. */
    async function shot(name: string) {
      const scrollWidth = await page.locator("html").evaluate((html) => html.scrollWidth);
      expect(scrollWidth, `${name}: page wider than the screen`).toBeLessThanOrEqual(WIDTH);
      await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
    }

    /** Clicks a form's button and returns the status of the POST it sent (before any redirect). */
    async function submit(button: string): Promise<number> {
      const posted = page.waitForResponse(
        (r) => r.request().method() === "POST" && r.request().frame() === page.mainFrame(),
      );
      await page.getByRole("button", { name: button, exact: true }).click();
      const status = (await posted).status();
      await page.waitForLoadState("load");
      return status;
    }

    /** Start page -> channel page for Maria-Rosa's address; returns the recovery id. */
    async function startRecovery(): Promise<string> {
      await page.goto(`${origin}/recover?lang=fr`);
      expect(await heading()).toBe(fr["recover.start.title"]);
      await page.fill("#address", maria.address);
      expect(await submit(fr["recover.start.submit"])).toBe(303);
      await page.waitForURL(/\/recover\/[^/]+\/channel\?lang=fr$/);
      expect(await heading()).toBe(fr["recover.channel.title"]);
      return recoveryIdOf(page.url());
    }

    /** Channel page -> code page for `value`. */
    async function askCode(id: string, value: string) {
      await page.fill("#value", value);
      expect(await submit(fr["recover.channel.submit"])).toBe(303);
      await page.waitForURL(`${origin}/recover/${id}/code?lang=fr`);
      expect(await heading()).toBe(fr["recover.code.title"]);
    }

    /** The link of the n-th mail to `recipient`, pointed at the listening origin instead of PUBLIC_URL. */
    async function mailLink(recipient: string, index: number): Promise<string> {
      const mails = (await t.messages()).filter((m) => m.recipient === recipient);
      const body = mails.at(index)?.body ?? "";
      const link = /http:\/\/sesame\.test\/recover\/link\S+/.exec(body)?.[0];
      expect(link, `no link in mail ${index} to ${recipient}`).toBeDefined();
      return link!.replace("http://sesame.test", origin);
    }

    it("1. home page in all four languages: no literal placeholder, no promise of a phone call", async () => {
      // The old texts promised a call with no number anywhere, in each language.
      const callPromise = /appeler|\bcall\b|\bbellen\b|anrufen/i;
      for (const [index, locale] of (locales as readonly Locale[]).entries()) {
        const tr = translator(locale);
        const response = await page.goto(`${origin}/?lang=${locale}`);
        expect(response?.status()).toBe(200);
        expect(await page.locator("html").getAttribute("lang")).toBe(locale);
        expect(await heading()).toBe(tr("home.title"));
        const text = await mainText();
        expect(text).toContain(tr("home.contact.body", { action: tr("recover.channel.noaccess") }));
        expect(text).toContain(tr("recover.channel.noaccess"));
        expect(text).not.toContain("{");
        expect(text).not.toMatch(callPromise);
        await shot(`${String(index + 1).padStart(2, "0")}-home-${locale}`);
      }
    });

    it("2. the start and backup fields each say what they expect; the locked address as backup sends nothing", async () => {
      // Start page, empty.
      await page.goto(`${origin}/recover?lang=fr`);
      expect(await submit(fr["recover.start.submit"])).toBe(400);
      expect(await heading()).toBe(fr["recover.start.title"]);
      expect(await alert()).toBe(fr["error.ERR_ADDRESS_EMPTY"]);
      expect(await mainText()).not.toContain(fr["error.ERR_VALIDATION"]);
      await shot("05-start-empty");

      // Start page, no "@".
      await page.fill("#address", "maria-rosa");
      expect(await submit(fr["recover.start.submit"])).toBe(400);
      expect(await alert()).toBe(
        fr["error.ERR_ADDRESS_INCOMPLETE"].replace("{example}", fr["recover.example.address"]),
      );
      expect(await mainText()).not.toContain(fr["error.ERR_VALIDATION"]);
      expect(await page.inputValue("#address")).toBe("maria-rosa");
      await shot("06-start-no-at");

      const id = await startRecovery();
      // The hints give a French example, not name@gmail.com.
      expect(await mainText()).toContain(fr["recover.example.address"]);
      expect(await mainText()).not.toContain("gmail.com");

      // Backup, empty: its own message, not "this phone number is not valid".
      expect(await submit(fr["recover.channel.submit"])).toBe(400);
      expect(new URL(page.url()).pathname).toBe(`/recover/${id}/channel`);
      expect(await heading()).toBe(fr["recover.channel.title"]);
      expect(await alert()).toBe(fr["error.ERR_BACKUP_EMPTY"]);
      expect(await mainText()).not.toContain(stem("error.ERR_PHONE_INVALID"));
      await shot("07-backup-empty");

      // Backup without "@" that is not a phone: type the whole address, with a French example.
      await page.fill("#value", "maria-rosa");
      expect(await submit(fr["recover.channel.submit"])).toBe(400);
      const incomplete = await alert();
      expect(incomplete).toBe(
        fr["error.ERR_ADDRESS_INCOMPLETE"].replace("{example}", fr["recover.example.address"]),
      );
      expect(incomplete).toContain("@exemple.be");
      expect(await mainText()).not.toContain("name@gmail.com");
      expect(await mainText()).not.toContain(stem("error.ERR_PHONE_INVALID"));
      expect(await mainText()).not.toContain(fr["error.ERR_VALIDATION"]);
      await shot("08-backup-no-at");

      // The address being recovered typed as the backup: "that is the locked address", nothing sent.
      await page.fill("#value", maria.address);
      expect(await submit(fr["recover.channel.submit"])).toBe(400);
      expect(new URL(page.url()).pathname).toBe(`/recover/${id}/channel`);
      expect(await heading()).toBe(fr["recover.channel.title"]);
      expect(await alert()).toBe(fr["error.ERR_BACKUP_IS_ACCOUNT"]);
      expect(await mainText()).not.toContain(fr["recover.code.intro"]);
      expect(await t.messages()).toEqual([]);
      expect((await t.app.services.recovery.view(id)).state).toBe("choose_channel");
      await shot("09-backup-is-locked-address");
    });

    it("5. empty, non-numeric and 5-digit codes use no try", async () => {
      const id = await startRecovery();
      await askCode(id, BACKUP);
      const code = await t.lastCodeFor(BACKUP);
      expect(code).toMatch(/^\d{6}$/);

      const steps: Array<[string, string]> = [
        ["", "10-code-empty"],
        ["abcdef", "11-code-letters"],
        ["12345", "12-code-five-digits"],
      ];
      for (const [typed, name] of steps) {
        await page.fill("#code", typed);
        expect(await submit(fr["recover.code.submit"])).toBe(400);
        expect(new URL(page.url()).pathname).toBe(`/recover/${id}/code`);
        expect(await alert()).toBe(fr["error.ERR_CODE_FORMAT"]);
        expect(await mainText()).not.toContain(stem("error.ERR_CODE_INVALID"));
        await shot(name);
      }

      // Three malformed inputs later, the first well-formed wrong code still leaves 4 of 5 tries.
      await page.fill("#code", code === "000000" ? "111 111" : "000 000");
      expect(await submit(fr["recover.code.submit"])).toBe(400);
      expect(await alert()).toBe(fr["error.ERR_CODE_INVALID"].replace("{attemptsLeft}", "4"));
      await shot("13-code-wrong-four-left");
    });

    it("6/7/3/4/10/12/13. Maria-Rosa's whole French story through the mail link, then her account page", async () => {
      const id = await startRecovery();
      await shot("20-story-channel");

      // First code by mail; the code page shows where it went, masked as everywhere else.
      await askCode(id, BACKUP);
      expect(await mainText()).toContain(fr["recover.code.sentto"].replace("{destination}", BACKUP_MASKED));
      expect(await mainText()).not.toContain(BACKUP);
      await shot("21-story-code-sent-mail");
      const firstCode = await t.lastCodeFor(BACKUP);

      // A newer code (the person asked again): the first mail's code and link are voided.
      await page.getByRole("link", { name: fr["recover.code.resend"] }).click();
      await page.waitForURL(`${origin}/recover/${id}/channel?lang=fr`);
      await askCode(id, BACKUP);
      const secondCode = await t.lastCodeFor(BACKUP);
      expect(secondCode).not.toBe(firstCode);

      // The older mail's code typed: "a newer code was sent", not "code not correct, tries left".
      await page.fill("#code", firstCode!);
      expect(await submit(fr["recover.code.submit"])).toBe(410);
      expect(await alert()).toBe(fr["error.ERR_CODE_SUPERSEDED"]);
      expect(await mainText()).not.toContain(stem("error.ERR_CODE_INVALID"));
      await shot("22-story-older-code-superseded");

      // The older mail's link, confirmed: the same plain answer.
      await page.goto(await mailLink(BACKUP, 0));
      expect(await heading()).toBe(fr["recover.link.title"]);
      expect(await submit(fr["recover.link.submit"])).toBe(410);
      expect(await heading()).toBe(fr["recover.link.title"]);
      expect(await alert()).toBe(fr["error.ERR_CODE_SUPERSEDED"]);
      expect(await mainText()).not.toContain(stem("error.ERR_CODE_INVALID"));
      expect((await t.app.services.recovery.view(id)).state).toBe("enter_code");
      await shot("23-story-older-link-superseded");

      // The latest mail's link: opening it only shows a confirmation, the POST confirms.
      await page.goto(await mailLink(BACKUP, -1));
      expect(await heading()).toBe(fr["recover.link.title"]);
      expect((await t.app.services.recovery.view(id)).state).toBe("enter_code");
      await shot("24-story-link-confirmation");
      expect(await submit(fr["recover.link.submit"])).toBe(303);
      await page.waitForURL(`${origin}/recover/${id}/password?lang=fr`);
      expect(await heading()).toBe(fr["recover.password.title"]);

      // The password page: a confirmation field, no promise that only "never used" passwords pass.
      expect(await page.getByLabel(fr["recover.password.confirm"], { exact: true }).count()).toBe(1);
      expect(await page.locator("#confirmation").getAttribute("type")).toBe("password");
      expect(await mainText()).not.toContain("jamais utilisé ici");
      await shot("25-story-password");

      // Empty password: its own message, not "too easy to guess".
      expect(await submit(fr["recover.password.submit"])).toBe(400);
      expect(await heading()).toBe(fr["recover.password.title"]);
      expect(await alert()).toBe(fr["error.ERR_PASSWORD_EMPTY"]);
      expect(await mainText()).not.toContain(stem("error.ERR_PASSWORD_WEAK"));
      await shot("26-story-password-empty");

      // Mismatched confirmation: its own message.
      await page.fill("#password", NEW_PASSWORD);
      await page.fill("#confirmation", `${NEW_PASSWORD}!`);
      expect(await submit(fr["recover.password.submit"])).toBe(400);
      expect(await alert()).toBe(fr["error.ERR_PASSWORD_MISMATCH"]);
      expect(await mainText()).not.toContain(stem("error.ERR_PASSWORD_WEAK"));
      await shot("27-story-password-mismatch");

      await page.fill("#password", NEW_PASSWORD);
      await page.fill("#confirmation", NEW_PASSWORD);
      expect(await submit(fr["recover.password.submit"])).toBe(303);
      await page.waitForURL(`${origin}/recover/${id}/done?lang=fr`);
      expect(await heading()).toBe(fr["recover.done.title"]);
      expect(await page.locator(".notice").textContent()).toBe(fr["recover.done.body"]);
      await shot("28-story-done");

      // Sign-in: empty, no "@", no password: each its own message, never "address or password not correct".
      await page.getByRole("link", { name: fr["recover.done.signin"] }).click();
      await page.waitForURL(`${origin}/signin?lang=fr`);
      expect(await heading()).toBe(fr["signin.title"]);
      const signinRefusals: Array<[string, string, MessageKey, string]> = [
        ["", "", "signin.address.missing", "29-signin-empty"],
        ["maria-rosa", NEW_PASSWORD, "signin.address.incomplete", "30-signin-no-at"],
        [maria.address, "", "signin.password.missing", "31-signin-no-password"],
      ];
      for (const [address, password, key, name] of signinRefusals) {
        await page.fill("#address", address);
        await page.fill("#password", password);
        expect(await submit(fr["signin.submit"])).toBe(400);
        expect(await heading()).toBe(fr["signin.title"]);
        expect(await alert()).toBe(fr[key]);
        expect(await mainText()).not.toContain(fr["signin.invalid"]);
        await shot(name);
      }

      // She signs in with her new password: the account page, not a dead end.
      await page.fill("#address", maria.address);
      await page.fill("#password", NEW_PASSWORD);
      expect(await submit(fr["signin.submit"])).toBe(303);
      await page.waitForURL(`${origin}/account?lang=fr`);
      expect(await heading()).toBe(fr["account.title"]);
      const account = await mainText();
      expect(account).toContain(fr["signin.success.body"].replace("{name}", maria.address));
      expect(await page.locator("main dd").first().textContent()).toBe(maria.address);
      expect(account).toContain(fr["account.status.active"]);
      // The backups masked in the same pattern as on the code page (and in mails and SMS).
      const backups = await page.locator("main dd li").allTextContents();
      expect(backups).toContain(BACKUP_MASKED);
      expect(backups).toContain(PHONE_MASKED);
      expect(account).not.toContain(BACKUP);
      const help = page.getByRole("link", { name: fr["account.help"], exact: true });
      expect(await help.getAttribute("href")).toBe("/?lang=fr");
      expect(await page.getByRole("button", { name: fr["account.signout"], exact: true }).count()).toBe(1);
      await shot("32-story-account");

      // The session cookie lasts 30 days (the README's promise), not a browser session nor 1,000 days.
      const session = (await context.cookies()).find((c) => c.name === "sesame_session");
      expect(session).toBeDefined();
      const thirtyDays = Date.now() / 1000 + 30 * 24 * 3600;
      expect(Math.abs(session!.expires - thirtyDays)).toBeLessThan(300);
      expect(session!.httpOnly).toBe(true);

      // The way back to the help centre.
      await help.click();
      await page.waitForURL(`${origin}/?lang=fr`);
      expect(await heading()).toBe(fr["home.title"]);
      await page.goto(`${origin}/account?lang=fr`);
      expect(await heading()).toBe(fr["account.title"]);

      // Sign-out works: the page says so, and /account sends to sign-in afterwards, even with the
      // old cookie put back (the session ended on the server, not only in the browser).
      expect(await submit(fr["account.signout"])).toBe(200);
      expect(await heading()).toBe(fr["account.signedout.title"]);
      expect(await mainText()).toContain(fr["account.signedout.body"]);
      await shot("33-story-signed-out");
      expect((await context.cookies()).find((c) => c.name === "sesame_session")).toBeUndefined();
      for (const cookies of [[], [session!]]) {
        await context.addCookies(cookies);
        const response = await page.goto(`${origin}/account?lang=fr`);
        expect(response?.request().redirectedFrom()?.url()).toBe(`${origin}/account?lang=fr`);
        expect(page.url()).toBe(`${origin}/signin?lang=fr`);
        expect(await heading()).toBe(fr["signin.title"]);
      }

      // The story's end, checked at the source: unlocked, new password in force.
      const view = await t.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
      expect(view.json()).toMatchObject({ status: "active" });
      const signin = (password: string) =>
        t.server.inject({
          method: "POST",
          url: "/api/v1/signin",
          payload: { address: maria.address, password },
        });
      expect((await signin(NEW_PASSWORD)).statusCode).toBe(200);
      expect((await signin(STRONG_PASSWORD)).statusCode).toBe(401);
    });

    it("12. a code sent by SMS is shown masked like a mail and like the account page", async () => {
      const id = await startRecovery();
      await askCode(id, PHONE);
      expect(await mainText()).toContain(fr["recover.code.sentto"].replace("{destination}", PHONE_MASKED));
      expect(await mainText()).not.toContain("470 12 34 56");
      expect(await t.lastCodeFor("+32470123456")).toMatch(/^\d{6}$/);
      await shot("40-code-sent-sms");
    });

    it("12. a phone number typed the Belgian way (0470 …) is shown masked in the same pattern", async () => {
      const id = await startRecovery();
      await askCode(id, "0470 12 34 56");
      // The SMS went to her number: the page must show it as everywhere else, not as "0•••••••56".
      expect(await t.lastCodeFor("+32470123456")).toMatch(/^\d{6}$/);
      await shot("44-code-sent-sms-national");
      expect(await mainText()).not.toContain("0•••••••56");
      expect(await mainText()).toContain(fr["recover.code.sentto"].replace("{destination}", PHONE_MASKED));
    });

    it("8. a stale form on a recovery step is shown again, fresh, and then goes through", async () => {
      const id = await startRecovery();

      // The channel step: the CSRF cookie is gone (a restart, a tab left open).
      await context.clearCookies({ name: "_csrf" });
      await page.fill("#value", BACKUP);
      expect(await submit(fr["recover.channel.submit"])).toBe(403);
      expect(new URL(page.url()).pathname).toBe(`/recover/${id}/channel`);
      expect(await heading()).toBe(fr["recover.channel.title"]);
      expect(await alert()).toBe(fr["form.renewed"]);
      expect(await mainText()).not.toContain(fr["error.ERR_CSRF"]);
      expect(await page.inputValue("#value")).toBe(BACKUP);
      expect(await t.messages()).toEqual([]);
      await shot("41-stale-channel-renewed");
      expect(await submit(fr["recover.channel.submit"])).toBe(303);
      await page.waitForURL(`${origin}/recover/${id}/code?lang=fr`);
      const code = await t.lastCodeFor(BACKUP);
      expect(code).toMatch(/^\d{6}$/);

      // The code step: the form's hidden token tampered on the way; the right code is not spent.
      await page.route(`${origin}/recover/${id}/code`, (route) =>
        route.continue({
          postData: (route.request().postData() ?? "").replace(/_csrf=[^&]*/, "_csrf=stale"),
        }),
      );
      await page.fill("#code", code!);
      expect(await submit(fr["recover.code.submit"])).toBe(403);
      await page.unrouteAll();
      expect(await heading()).toBe(fr["recover.code.title"]);
      expect(await alert()).toBe(fr["form.renewed"]);
      expect(await mainText()).not.toContain(fr["error.ERR_CSRF"]);
      expect((await t.app.services.recovery.view(id)).state).toBe("enter_code");
      await shot("42-stale-code-renewed");
      await page.fill("#code", code!);
      expect(await submit(fr["recover.code.submit"])).toBe(303);
      await page.waitForURL(`${origin}/recover/${id}/password?lang=fr`);
      expect(await heading()).toBe(fr["recover.password.title"]);
    });

    it("8. a stale sign-in form is shown again, fresh, instead of 'reload the page'", async () => {
      await createAccount(t, { address: "lena@skynet.example", locale: "fr", country: "BE" });
      await page.goto(`${origin}/signin?lang=fr`);
      await context.clearCookies({ name: "_csrf" });
      await page.fill("#address", "lena@skynet.example");
      await page.fill("#password", STRONG_PASSWORD);
      await submit(fr["signin.submit"]);
      await shot("43-stale-signin");
      expect(await mainText()).not.toContain(fr["error.ERR_CSRF"]);
      expect(await heading()).toBe(fr["signin.title"]);
      expect(await alert()).toBe(fr["form.renewed"]);
      await page.fill("#password", STRONG_PASSWORD);
      expect(await submit(fr["signin.submit"])).toBe(303);
      await page.waitForURL(`${origin}/account?lang=fr`);
    });

    it("9. the case page says in plain words when we write and what to do meanwhile, the contact masked", async () => {
      const id = await startRecovery();
      await page.getByRole("link", { name: fr["recover.channel.noaccess"] }).click();
      await page.waitForURL(`${origin}/recover/${id}/no-access?lang=fr`);
      expect(await heading()).toBe(fr["recover.noaccess.title"]);
      await shot("50-no-access");

      await page.fill("#contactEmail", WORK_CONTACT);
      expect(await submit(fr["recover.noaccess.submit"])).toBe(303);
      await page.waitForURL(`${origin}/recover/${id}/case?lang=fr`);
      expect(await heading()).toBe(fr["recover.case.title"]);
      const text = await mainText();
      expect(text).toContain(
        fr["recover.case.by"]
          .replace("{team}", "French-speaking support (Casablanca)")
          .replace("{contact}", WORK_CONTACT_MASKED)
          .replace("{due}", "jeudi 26 novembre à 14:00"),
      );
      expect(text).toContain(fr["recover.case.meanwhile"]);
      expect(text).not.toContain(WORK_CONTACT);
      // The old jargon: "we count the time from your first attempt".
      expect(text).not.toMatch(/première tentative|nous comptons le temps/i);
      const ref = /SES-[A-Z0-9]{4}-[A-Z0-9]{4}/.exec((await page.locator(".ref").textContent()) ?? "")?.[0];
      expect(ref).toBeDefined();
      await shot("51-case-open");

      // A new recovery while the case is open mentions the case once the code is confirmed...
      const again = await startRecovery();
      await askCode(again, BACKUP);
      await page.fill("#code", (await t.lastCodeFor(BACKUP))!);
      expect(await submit(fr["recover.code.submit"])).toBe(303);
      await page.waitForURL(`${origin}/recover/${again}/password?lang=fr`);
      expect(await page.locator("main .notice").textContent()).toBe(
        fr["recover.password.case"].replace("{ref}", ref!),
      );
      await shot("52-case-new-recovery-password");
      await page.fill("#password", NEW_PASSWORD);
      await page.fill("#confirmation", NEW_PASSWORD);
      expect(await submit(fr["recover.password.submit"])).toBe(303);
      await page.waitForURL(`${origin}/recover/${again}/done?lang=fr`);
      expect(await t.app.services.cases.openCaseRefOf(maria.address)).toBe(ref);

      // ...and so does the account page after signing in.
      await page.goto(`${origin}/signin?lang=fr`);
      await page.fill("#address", maria.address);
      await page.fill("#password", NEW_PASSWORD);
      expect(await submit(fr["signin.submit"])).toBe(303);
      await page.waitForURL(`${origin}/account?lang=fr`);
      expect(await mainText()).toContain(fr["account.case"].replace("{ref}", ref!));
      await shot("53-case-account-page");
    });

    it("11. a malformed URL and an overlong id answer the localised HTML error page with the security headers", async () => {
      const cases: Array<[string, number, MessageKey, string]> = [
        [`/%ff?lang=fr`, 400, "error.ERR_VALIDATION", "60-error-bad-url-lang"],
        [`/%ff`, 400, "error.ERR_VALIDATION", "61-error-bad-url-accept-language"],
        [
          `/recover/${"a".repeat(300)}/channel?lang=fr`,
          404,
          "error.ERR_RECOVERY_NOT_FOUND",
          "62-error-long-id",
        ],
        [`/recover/${"a".repeat(3000)}/channel`, 400, "error.ERR_VALIDATION", "63-error-overlong-param"],
      ];
      for (const [path, status, key, name] of cases) {
        const response = await page.goto(`${origin}${path}`);
        expect(response?.status(), path).toBe(status);
        const headers = response!.headers();
        expect(headers["content-type"]).toMatch(/^text\/html/);
        expect(headers["content-security-policy"]).toContain("default-src 'none'");
        expect(headers["x-content-type-options"]).toBe("nosniff");
        expect(await page.locator("html").getAttribute("lang"), path).toBe("fr");
        expect(await heading()).toBe(fr["error.title"]);
        expect(await alert()).toBe(fr[key]);
        const body = (await page.content()) ?? "";
        expect(body).not.toContain("FST_ERR");
        expect(body).not.toContain('"statusCode"');
        await shot(name);
      }
    });
  },
);
