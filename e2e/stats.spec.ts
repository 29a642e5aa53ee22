// Invocation charts: the overview per app and a script's own charts, drawn with uPlot from /stats.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Shell } from "./pages/shell.js";
import { screenshot } from "./support/browser.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

describe("invocation charts", { timeout: 120_000 }, () => {
  let session: SignedInSession;
  let page: Page;
  let shell: Shell;

  beforeAll(async () => {
    session = await startSignedInSession({
      seed: async (server) => {
        for (const app of ["shop", "blog"]) await server.api("POST", "/apps", { id: app });
        const source = "export default async function (ctx) { if (ctx.request.query.fail) throw new Error('declined'); return 'ok' }";
        for (const [app, script] of [
          ["shop", "cart"],
          ["shop", "pay"],
          ["blog", "feed"],
        ]) {
          await server.api("PUT", `/apps/${app}/scripts/${script}`, { source });
        }
        // Runs over a second: the p99 axis then labels seconds, which must fit in the axis.
        await server.api("PUT", "/apps/shop/scripts/slow", {
          source: "export default async function () { const end = Date.now() + 1200; while (Date.now() < end) {} return 'slow' }",
        });
        await server.api("PUT", "/apps/shop/scripts/slow/settings", { settings: { limits: { cpuMs: 5000 } } });
        const calls = [
          ...Array(20).fill("/shop/cart"),
          ...Array(6).fill("/shop/pay"),
          ...Array(3).fill("/shop/pay?fail=1"),
          ...Array(9).fill("/blog/feed"),
          ...Array(2).fill("/shop/slow"),
        ];
        for (const url of calls) await (await fetch(`${server.url}${url}`)).arrayBuffer();
      },
    });
    ({ page, shell } = session);
  }, 90_000);

  afterAll(() => session?.close());

  it("the overview charts invocations, errors and p99 per app, with totals", async () => {
    await shell.go("#/");
    await page.waitForSelector('[data-testid="stats-overview"] [data-testid="chart-p99"] canvas');
    expect(await page.locator('[data-testid="stats-overview"] canvas').count()).toBeGreaterThanOrEqual(3);
    const rows = page.locator('[data-testid="stats-table"] tbody tr');
    await page.waitForSelector('[data-testid="stats-table"] tbody tr:has-text("shop")');
    expect(await rows.allInnerTexts()).toEqual([expect.stringMatching(/^blog\s+9\s+0\s/), expect.stringMatching(/^shop\s+31\s+3\s/)]);
    // Legends name each app: one line per app.
    expect(await page.locator('[data-testid="chart-invocations"] .u-legend').innerText()).toMatch(/blog[\s\S]*shop/);
    for (const [width, height] of [
      [1440, 900],
      [1024, 700],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.waitForFunction((w) => {
        const canvas = document.querySelector('[data-testid="chart-invocations"] canvas') as HTMLCanvasElement | null;
        return canvas !== null && canvas.getBoundingClientRect().width < w;
      }, width);
      await screenshot(page, `stats-overview-${width}x${height}`);
    }
    // The legend reads the hovered minute in the app's one date format (not uPlot's US default).
    const p99 = page.locator('[data-testid="chart-p99"] .u-over');
    const box = await p99.boundingBox();
    if (!box) throw new Error("no p99 plot area");
    await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2);
    await expect.poll(() => page.locator('[data-testid="chart-p99"] .u-legend').innerText()).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    await screenshot(page, "stats-overview-legend-hover");
  });

  it("a script's page charts its volume, errors and p50/p99, with errors by code", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await shell.go("#/apps/shop/scripts/pay");
    await page.waitForSelector('[data-testid="script-stats"] [data-testid="chart-latency"] canvas');
    await expect.poll(() => page.locator('[data-testid="script-stats"] .card-head').innerText()).toMatch(/9 runs · 3 errors/);
    expect(await page.locator('[data-testid="errors-by-code"]').innerText()).toContain("SCRIPT_ERROR 3");
    await page.locator('[data-testid="script-stats"]').scrollIntoViewIfNeeded();
    await screenshot(page, "stats-script-1440x900");
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.locator('[data-testid="script-stats"]').scrollIntoViewIfNeeded();
    await screenshot(page, "stats-script-1024x700");
  });
});
