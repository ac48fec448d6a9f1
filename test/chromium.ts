import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

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
