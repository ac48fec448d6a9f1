import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { type TestApp, testApp } from "./helpers.js";

/** Debian's Chromium, driven by playwright-core (`apt-get install -y chromium`). */
const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const onCi = Boolean(process.env.CI);

/**
 * Whether a browser test file runs: without Chromium it is skipped with a warning, except under
 * CI=true, where it runs and fails (a missing browser must not pass silently there).
 */
export function browserTestsRun(file: string): boolean {
  if (!hasChromium && !onCi)
    console.warn(
      `${file} skipped: no Chromium at ${CHROMIUM}. Install it with \`apt-get install -y chromium\`.`,
    );
  return hasChromium || onCi;
}

/**
 * A browser journey is one long test: under the whole suite on two cores it can take several
 * times its 10 s alone, past the suite's 30 s default.
 */
export const JOURNEY = { timeout: 120_000 };

export async function launchChromium(): Promise<Browser> {
  if (!hasChromium)
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium).`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface ServedPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  t: TestApp;
  origin: string;
}

/**
 * One Chromium per file and, for each test, a test app served on a free port and a fresh page
 * without JavaScript, in the French of Belgium, `width` px wide (Chromium's default without it).
 * `prepare` runs on each app before it listens; `use` is handed each test's page and app.
 */
export function servedPages(
  options: { width?: number; prepare?: (t: TestApp) => Promise<unknown> },
  use: (served: ServedPage) => void,
): void {
  let browser: Browser;
  let served: ServedPage | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    const t = await testApp();
    await options.prepare?.(t);
    await t.server.listen({ port: 0, host: "127.0.0.1" });
    const origin = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
    const context = await browser.newContext({
      javaScriptEnabled: false,
      locale: "fr-BE",
      ...(options.width ? { viewport: { width: options.width, height: 844 } } : {}),
    });
    served = { browser, context, page: await context.newPage(), t, origin };
    use(served);
  });
  afterEach(async () => {
    await served?.context.close();
    await served?.t.close();
    served = undefined;
  });
}

/** Where browser tests keep a screenshot of each page they check (git-ignored). */
export const SHOTS = fileURLToPath(new URL("../test-artifacts/screenshots/", import.meta.url));

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * One JavaScript-enabled page per browser where axe runs on copies of the tested pages: a fresh
 * context and a fresh compile of axe for each check took about a second of a long journey's time.
 */
const axePages = new WeakMap<Browser, Promise<Page>>();

function axePage(browser: Browser, width: number): Promise<Page> {
  let copy = axePages.get(browser);
  if (!copy) {
    copy = browser
      .newContext({ bypassCSP: true, viewport: { width, height: 844 } })
      .then((context) => context.newPage());
    axePages.set(browser, copy);
  }
  return copy;
}

/**
 * The page fits `width` without sideways scrolling, is kept as a screenshot, and axe finds nothing.
 * Axe needs JavaScript: it runs in a JavaScript-enabled copy of the page, the tested one has none.
 */
export async function expectUsable(browser: Browser, page: Page, name: string, width: number): Promise<void> {
  const scrollWidth = await page.locator("html").evaluate((html) => html.scrollWidth);
  expect(scrollWidth, `${name}: page wider than the screen`).toBeLessThanOrEqual(width);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  const copy = await axePage(browser, width);
  await copy.setViewportSize({ width, height: 844 });
  await copy.setContent(await page.content(), { waitUntil: "load" });
  await copy.addScriptTag({ content: axeSource });
  const violations = await copy.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: () => Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> };
      }
    ).axe;
    return (await axe.run()).violations.map((v) => `${v.id} (${v.nodes.length})`);
  });
  expect(violations, name).toEqual([]);
}
