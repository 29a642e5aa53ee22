// Headless Debian Chromium driven by playwright-core (browsers cannot be downloaded here).
// Every page a spec opens is watched: a console error or an uncaught page error fails the test
// it happened in, unless the test said it expects that error (e.g. a 401 on a wrong token).
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterEach } from "vitest";

export const CHROMIUM = process.env.PICLOUD_CHROMIUM ?? "/usr/bin/chromium";

/** Screenshots of each main view land here, to be looked at (CI keeps them in its temp dir). */
export const SCREENSHOT_DIR = process.env.PICLOUD_SCREENSHOT_DIR ?? path.join(os.tmpdir(), "picloud-screenshots");

export const DESKTOP = { width: 1440, height: 900 } as const;
export const SMALL = { width: 1024, height: 700 } as const;

/**
 * Chromium logs every non-2xx fetch as "Failed to load resource". A 4xx from the admin API is a
 * coded answer the UI handles (a new script's 404, a deploy's 400); 5xx and network failures are not.
 */
const HANDLED_API_ANSWER = /Failed to load resource: the server responded with a status of 4\d\d .*\/api\/v1\//;

interface Watched {
  errors: string[];
  allowed: RegExp[];
  /** Messages of the dialogs (confirm, alert) the page opened, in order. */
  dialogs: string[];
  /** Whether to accept the next dialogs (true by default). */
  accept: boolean;
}
const watched = new Map<Page, Watched>();

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

export async function newPage(browser: Browser, viewport: { width: number; height: number } = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const state: Watched = { errors: [], allowed: [], dialogs: [], accept: true };
  watched.set(page, state);
  const record = (text: string) => {
    if (HANDLED_API_ANSWER.test(text) || state.allowed.some((pattern) => pattern.test(text))) return;
    state.errors.push(text);
  };
  page.on("console", (message) => {
    if (message.type() === "error") record(`console: ${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => record(`pageerror: ${error.message}`));
  page.on("dialog", (dialog) => {
    state.dialogs.push(dialog.message());
    void (state.accept ? dialog.accept() : dialog.dismiss());
  });
  page.on("close", () => watched.delete(page));
  page.setDefaultTimeout(20_000);
  return page;
}

/** Lets the current test produce browser errors matching `pattern` (cleared after the test). */
export function allowBrowserErrors(page: Page, pattern: RegExp): void {
  watched.get(page)?.allowed.push(pattern);
}

/** From now on, dialogs are accepted (true) or dismissed (false); returns the messages seen so far. */
export function answerDialogs(page: Page, accept: boolean): string[] {
  const state = watched.get(page);
  if (!state) throw new Error("not a watched page");
  state.accept = accept;
  return state.dialogs;
}

/** Runs `action` and waits for the dialog it opens (answered as set by answerDialogs); returns its message. */
export async function expectDialog(page: Page, action: () => Promise<void>): Promise<string> {
  const dialog = page.waitForEvent("dialog", { timeout: 20_000 });
  await action();
  return (await dialog).message();
}

afterEach(() => {
  const problems: string[] = [];
  for (const state of watched.values()) {
    problems.push(...state.errors);
    state.errors = [];
    state.allowed = [];
    state.accept = true;
  }
  if (problems.length > 0) throw new Error(`The browser reported errors:\n${problems.join("\n")}`);
});

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The same view at 1440x900 and at 1024x700, as `<name>-1440.png` and `<name>-1024.png`. */
export async function screenshotBothSizes(page: Page, name: string, settle?: () => Promise<void>): Promise<void> {
  const original = page.viewportSize() ?? DESKTOP;
  for (const size of [DESKTOP, SMALL]) {
    await page.setViewportSize(size);
    await settle?.();
    await screenshot(page, `${name}-${size.width}`);
  }
  await page.setViewportSize(original);
}
