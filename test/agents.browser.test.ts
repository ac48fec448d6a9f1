import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { TOTP_PERIOD_MS, totpCodeAt } from "../src/agents/model.js";
import { AGENT_PASSWORD, TEST_TEAMS } from "../src/agents/testing.js";
import { fr } from "../src/platform/locales/fr.js";
import { browserTestsRun, expectUsable, JOURNEY, servedPages } from "./chromium.js";
import type { TestApp } from "./helpers.js";

/**
 * An agent sets up their account from the setup link and signs in with password and TOTP code, in
 * Chromium with JavaScript off on a 390 px screen, in French; every page passes axe. The code is
 * computed with otpauth from the key the setup page showed, as the agent's phone would.
 * Then the agent opens the queue's case and answers it: the customer gets the answer by mail.
 */
const WIDTH = 390;

describe.runIf(browserTestsRun("test/agents.browser.test.ts"))("an agent signs in with TOTP", JOURNEY, () => {
  let browser: Browser;
  let page: Page;
  let t: TestApp;
  let origin: string;
  servedPages({ width: WIDTH }, (served) => {
    ({ browser, page, t, origin } = served);
  });

  const heading = () => page.locator("main h1").textContent();

  const check = (name: string) => expectUsable(browser, page, `agent-${name}`, WIDTH);

  async function submit(button: string): Promise<number> {
    const posted = page.waitForResponse(
      (r) => r.request().method() === "POST" && r.request().frame() === page.mainFrame(),
    );
    await page.getByRole("button", { name: button, exact: true }).click();
    const status = (await posted).status();
    await page.waitForLoadState("load");
    return status;
  }

  it("sets up the account from the link, signs in with password and code, and answers a case from the queue", async () => {
    const opened = await t.app.services.desk.openFromWeb(
      {
        contactEmail: "marie@example.be",
        language: "fr",
        country: "BE",
        subject: "Ma boîte est bloquée",
        body: "Depuis deux semaines.",
      },
      "web",
    );
    const { setupUrl } = await t.app.services.agents.addAgent(
      { email: "lea@desk.example", name: "Léa Dubois", role: "agent", teams: ["casablanca", "belux"] },
      TEST_TEAMS,
    );
    await page.goto(`${setupUrl.replace("http://sesame.test", origin)}&lang=fr`);
    expect(await heading()).toBe(fr["agent.setup.title"]);
    await check("setup-password");
    await page.fill("#password", AGENT_PASSWORD);
    await page.fill("#confirmation", AGENT_PASSWORD);
    expect(await submit(fr["agent.setup.submit"])).toBe(200);
    expect(await heading()).toBe(fr["agent.setup.totp.title"]);
    await check("setup-key");
    const secret = ((await page.locator("pre.secret").textContent()) ?? "").replaceAll(" ", "");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await page.locator("a[href^='otpauth://totp/']").getAttribute("href")).toContain(
      `secret=${secret}`,
    );
    await page.fill("#code", totpCodeAt(secret, t.clock.now()));
    expect(await submit(fr["agent.setup.totp.submit"])).toBe(200);
    expect(await heading()).toBe(fr["agent.setup.done.title"]);
    await page.locator("main").getByRole("link", { name: fr["agent.signin.submit"] }).click();
    await page.waitForURL(`${origin}/agent/signin?lang=fr`);
    expect(await heading()).toBe(fr["agent.signin.title"]);
    await check("signin");

    // The code just used for setup is refused: the same generic French error.
    await page.fill("#email", "lea@desk.example");
    await page.fill("#password", AGENT_PASSWORD);
    await page.fill("#code", totpCodeAt(secret, t.clock.now()));
    expect(await submit(fr["agent.signin.submit"])).toBe(401);
    expect(await page.getByRole("alert").textContent()).toBe(fr["error.ERR_AGENT_SIGNIN_FAILED"]);
    await check("signin-refused");

    t.clock.advance(TOTP_PERIOD_MS);
    await page.fill("#password", AGENT_PASSWORD);
    await page.fill("#code", totpCodeAt(secret, t.clock.now()));
    expect(await submit(fr["agent.signin.submit"])).toBe(303);
    await page.waitForURL(`${origin}/agent?lang=fr`);
    // The console's home is the queue of the agent's first team, with the case and its time left.
    expect(await heading()).toBe("French-speaking support (Casablanca)");
    expect(await page.locator("nav.card li").allTextContents()).toEqual([
      "French-speaking support (Casablanca)",
      "Belgium-Luxembourg team",
    ]);
    expect(await page.locator("ul.queue li").first().textContent()).toContain("reste");
    await check("queue");

    await page.getByRole("link", { name: opened.ref }).click();
    await page.waitForURL(`${origin}/agent/cases/${opened.ref}`);
    expect(await heading()).toBe(opened.ref);
    await check("case");
    await page.fill("#reply", "Bonjour, votre boîte est débloquée. Connectez-vous à nouveau.");
    expect(await submit(fr["console.reply.submit"])).toBe(200);
    expect(await page.getByRole("status").textContent()).toBe(fr["console.done.reply"]);
    expect(await page.locator("ul.timeline").textContent()).toContain("votre boîte est débloquée");
    await check("case-answered");
    const mail = (await t.messages()).filter((m) => m.recipient === "marie@example.be").at(-1);
    expect(mail?.body).toContain("votre boîte est débloquée");

    expect(await submit(fr["agent.signout"])).toBe(200);
    expect(await heading()).toBe(fr["agent.signedout.title"]);
    await page.goto(`${origin}/agent?lang=fr`);
    await page.waitForURL(`${origin}/agent/signin?lang=fr`);
  });
});
