// Findings of a QA walkthrough, kept fixed: long KV names stay inside their panels, the script's
// settings can be saved without scrolling, the header and KV fields read well at 1024 px, the diff
// says the same thing in the panel and wide, and normal paths make no request that can only fail.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EditorPage } from "./pages/editor.js";
import { KvPage } from "./pages/kv.js";
import type { Shell } from "./pages/shell.js";
import { DESKTOP, SMALL, screenshotBothSizes } from "./support/browser.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

/** 128 characters, the longest valid collection name. */
const COLLECTION = `orders.${"archive-".repeat(15)}z`.padEnd(128, "x");
/** Keys of 300 to 512 characters that differ only in their last characters. */
const LONG_KEYS = [`${"k".repeat(290)}-end-0001`, `${"k".repeat(290)}-end-0002`, `${"q".repeat(503)}-last-512`];

describe("QA walkthrough: layout and quiet normal paths", { timeout: 120_000 }, () => {
  let session: SignedInSession;
  let page: Page;
  let shell: Shell;
  /** Every admin API answer of 400 or more the page got, as "STATUS PATH". */
  const failed: string[] = [];

  beforeAll(async () => {
    session = await startSignedInSession({
      seed: async (server) => {
        await server.api("POST", "/apps", { id: "shop" });
        // A line longer than the side panel is wide: the narrow diff wraps it.
        await server.api("PUT", "/apps/shop/scripts/hello", {
          source: "export default async () => 'hello, this line is longer than the side panel is wide, so the diff wraps it'",
        });
        await server.api("PUT", "/apps/shop/scripts/hello", { source: "export default async () => 'hello again'" });
        for (const key of LONG_KEYS)
          await server.api("PUT", `/apps/shop/kv/${encodeURIComponent(COLLECTION)}/${encodeURIComponent(key)}`, { value: { key } });
      },
    });
    ({ page, shell } = session);
    page.on("response", (response) => {
      const url = new URL(response.url());
      if (response.status() >= 400 && url.pathname.startsWith("/api/v1/")) failed.push(`${response.status()} ${url.pathname}`);
    });
  }, 90_000);

  afterAll(() => session?.close());

  /** How far each element sticks out of its container to the right (0 when inside). */
  const overflow = () =>
    page.evaluate(() => {
      const layout = document.querySelector(".kv-layout") as HTMLElement;
      const right = layout.getBoundingClientRect().right;
      return {
        page: document.documentElement.scrollWidth - window.innerWidth,
        panels: Array.from(layout.children).map((el) => Math.max(0, el.getBoundingClientRect().right - right - 1)),
        heads: Array.from(layout.querySelectorAll<HTMLElement>(".card-head")).map((el) => Math.max(0, el.scrollWidth - el.clientWidth)),
      };
    });

  it("long collection names and keys stay inside their panels, and keys stay distinguishable", async () => {
    const kv = new KvPage(page);
    await kv.open("shop");
    await page.waitForSelector('[data-testid="kv-key"]');
    await kv.select(LONG_KEYS[1] as string);
    for (const size of [DESKTOP, SMALL]) {
      await page.setViewportSize(size);
      expect(await overflow()).toEqual({ page: 0, panels: [0, 0, 0], heads: [0, 0, 0] });
    }
    await page.setViewportSize(DESKTOP);
    // The whole names on hover.
    expect(await page.getAttribute('[data-testid="kv-collection-title"]', "title")).toBe(COLLECTION);
    expect(await page.getAttribute('[data-testid="kv-value-title"]', "title")).toBe(LONG_KEYS[1]);
    expect(await page.getAttribute(`[data-testid="collection-${COLLECTION}"] .grow`, "title")).toBe(COLLECTION);
    // Each key shows its own end; the row's text is still the whole key.
    const keys = page.locator('[data-testid="kv-key"]');
    expect(await keys.allInnerTexts()).toEqual(LONG_KEYS);
    expect(await keys.locator(".middle-tail").allInnerTexts()).toEqual(LONG_KEYS.map((k) => k.slice(-12)));
    const tailsVisible = await keys.locator(".middle-tail").evaluateAll((tails) =>
      tails.every((tail) => {
        const row = (tail.closest('[data-testid="kv-key"]') as HTMLElement).getBoundingClientRect();
        const box = tail.getBoundingClientRect();
        return box.width > 0 && box.right <= row.right;
      }),
    );
    expect(tailsVisible).toBe(true);
    await screenshotBothSizes(page, "qa-kv-long-names");
  });

  it("the KV collection field shows its whole placeholder at 1024 px", async () => {
    await page.setViewportSize(SMALL);
    const fits = await page.locator('[aria-label="Open collection"]').evaluate((input: HTMLInputElement) => {
      const style = getComputedStyle(input);
      const context = document.createElement("canvas").getContext("2d") as CanvasRenderingContext2D;
      context.font = `${style.fontSize} ${style.fontFamily}`;
      const inner = input.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
      return context.measureText(input.placeholder).width <= inner;
    });
    expect(fits).toBe(true);
    await page.setViewportSize(DESKTOP);
  });

  it("the header keeps the Search label and the connection state at 1024 px", async () => {
    for (const size of [DESKTOP, SMALL]) {
      await page.setViewportSize(size);
      expect(await page.locator('[data-testid="open-palette"] .label-text').isVisible()).toBe(true);
      expect(await page.locator('[data-testid="connection-state"]').innerText()).toBe("connected");
      expect(await page.locator(".topbar").evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
    }
    await screenshotBothSizes(page, "qa-topbar");
  });

  it("a script's settings are saved without scrolling the side panel", async () => {
    const editor = new EditorPage(page);
    await editor.open("shop", "hello");
    await page.click('[data-testid="panel-settings"]');
    await page.waitForSelector('[data-testid="script-settings"][data-ready="true"]');
    for (const size of [DESKTOP]) {
      await page.setViewportSize(size);
      const visible = await page.locator('[data-testid="script-settings-save"]').evaluate((button) => {
        const box = button.getBoundingClientRect();
        const panel = (button.closest(".side-panels") as HTMLElement).getBoundingClientRect();
        return box.top >= panel.top && box.bottom <= Math.min(panel.bottom, window.innerHeight);
      });
      expect(visible).toBe(true);
    }
    await page.fill('[data-testid="script-limit-cpuMs"]', "200");
    await page.click('[data-testid="script-settings-save"]');
    await page.waitForSelector('[data-testid="script-settings-saved"]');
    // At 1024 px the panels are under the editor: show the form's end.
    await screenshotBothSizes(page, "qa-script-settings", () =>
      page.locator('[data-testid="script-settings-save"]').scrollIntoViewIfNeeded(),
    );
  });

  it("Add parameter is a button, and a test run shows in the script's metrics at once", async () => {
    await page.click('[data-testid="panel-test"]');
    const widths = await page
      .locator('[data-testid="query-add"]')
      .evaluate((button) => [button.getBoundingClientRect().width, (button.parentElement as HTMLElement).clientWidth]);
    expect(widths[0]).toBeLessThan((widths[1] as number) / 2);
    await page.waitForSelector('[data-testid="script-stats"]');
    const refreshed = page.waitForResponse((r) => r.url().includes("/api/v1/stats") && r.url().includes("script=hello"), {
      timeout: 5_000,
    });
    await new EditorPage(page).testRun();
    await refreshed;
    await page.waitForSelector('[data-testid="script-stats"] canvas');
    await screenshotBothSizes(page, "qa-test-run", () => page.locator('[data-testid="query-add"]').scrollIntoViewIfNeeded());
  });

  it("the diff says red and green in the panel and wide alike", async () => {
    await page.click('[data-testid="panel-history"]');
    await page.click('[data-testid="version-1"]');
    await page.waitForSelector('[data-testid="diff-wide"] .monaco-diff-editor');
    expect(await page.locator("#diff-title").innerText()).toBe("v1 (red, left) against the editor (green, right)");
    await screenshotBothSizes(page, "qa-diff-wide");
    await page.click('[data-testid="diff-toggle-wide"]');
    await page.waitForSelector('[data-testid="diff-narrow"] .monaco-diff-editor');
    expect(await page.locator("#diff-title").innerText()).toBe("v1 (red) against the editor (green)");
    await screenshotBothSizes(page, "qa-diff-narrow", () => page.locator("#diff-title").scrollIntoViewIfNeeded());
  });

  it("a new script opens without asking for it first", async () => {
    failed.length = 0;
    await new EditorPage(page).open("shop", "brand-new");
    await page.waitForSelector("text=new — not deployed");
    expect(failed).toEqual([]);
  });

  it("an unknown app shows only that it does not exist, asked once", async () => {
    failed.length = 0;
    await shell.go("#/apps/nope");
    await page.waitForSelector('[data-testid="not-found"]');
    expect(await page.locator('[data-testid="not-found"]').innerText()).toContain("No app named 'nope'.");
    expect(await page.locator('[data-testid="tab-scripts"], [data-testid="new-script-name"]').count()).toBe(0);
    // Long enough for a retry to have happened (the first comes after a second).
    await page.waitForTimeout(1_500);
    expect(failed).toEqual(["404 /api/v1/apps/nope"]);
    await screenshotBothSizes(page, "qa-app-not-found");
    // The palette offers the listed apps' scripts, and asks nothing about the unknown one.
    await page.keyboard.press("Control+K");
    await page.waitForSelector('[data-testid="palette-item"]');
    await page.waitForTimeout(500);
    await page.keyboard.press("Escape");
    expect(failed).toEqual(["404 /api/v1/apps/nope"]);
  });

  it("an invocation id that cannot exist is not asked for; one that does not is asked once", async () => {
    failed.length = 0;
    await shell.go("#/invocations/nonexistent");
    await page.waitForSelector('[data-testid="not-found"]:has-text("No invocation with id \'nonexistent\'.")');
    expect(failed).toEqual([]);
    await screenshotBothSizes(page, "qa-invocation-not-found");
    const missing = "0".repeat(32);
    await shell.go(`#/invocations/${missing}`);
    await page.waitForSelector(`[data-testid="not-found"]:has-text("No invocation with id '${missing}'.")`);
    await page.waitForTimeout(1_500);
    expect(failed).toEqual([`404 /api/v1/invocations/${missing}`]);
  });
});
