// Headless Debian Chromium driven by playwright-core (browsers cannot be downloaded here).
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.PICLOUD_CHROMIUM ?? "/usr/bin/chromium";

/** Screenshots of each main view land here, to be looked at (CI keeps them in its temp dir). */
export const SCREENSHOT_DIR = process.env.PICLOUD_SCREENSHOT_DIR ?? path.join(os.tmpdir(), "picloud-screenshots");

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
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

export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 880 } });
  const page = await context.newPage();
  page.on("dialog", (dialog) => void dialog.accept());
  page.setDefaultTimeout(20_000);
  return page;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
