// Issue 11, live lists and the event inspector: one row per event with its collection and key,
// updated in place; history and live rows from one source with the same filters; CLI deploys
// appear without a reload; keyboard navigation; one time format; dead-letter attempts lead to
// their invocation; silent successful runs (not stored) appear live, marked so.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Shell } from "./pages/shell.js";
import { screenshot, screenshotBothSizes } from "./support/browser.js";
import type { E2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

describe("live lists and the event inspector", { timeout: 180_000 }, () => {
  let session: SignedInSession;
  let server: E2eServer;
  let page: Page;
  let shell: Shell;

  beforeAll(async () => {
    session = await startSignedInSession({
      seed: async (server) => {
        // Record sample rate 0: a silent success is never stored (the "not stored" test relies on it).
        await server.api("POST", "/apps", { id: "shop", settings: { recordSampleRate: 0 } });
        await server.api("PUT", "/apps/shop/scripts/audit", {
          source: "export default async function (ctx) {\n  console.log('audit', ctx.event.key);\n}\n",
        });
        await server.api("PUT", "/apps/shop/scripts/charge", {
          source: "export default async function (ctx) {\n  throw new Error('card declined for ' + ctx.event.key);\n}\n",
        });
        await server.api("PUT", "/apps/shop/scripts/quiet", { source: "export default async () => 'ok';\n" });
        await server.api("POST", "/apps/shop/triggers", { kind: "kv", script: "audit", collection: "orders" });
        await server.api("POST", "/apps/shop/triggers", {
          kind: "kv",
          script: "charge",
          collection: "payments",
          maxAttempts: 3,
          backoffMs: 50,
        });
      },
    });
    ({ server, page, shell } = session);
  }, 150_000);

  afterAll(() => session?.close());

  it("13: a script deployed elsewhere (CLI, API) appears in the sidebar without a reload", async () => {
    await shell.go("#/apps/shop");
    await page.waitForSelector('[data-testid="script-audit"]');
    await server.api("PUT", "/apps/shop/scripts/from-cli", { source: "export default async () => 'hi';\n" });
    await page.waitForSelector('[data-testid="script-from-cli"]', { timeout: 10_000 });
    await server.api("POST", "/apps", { id: "made-elsewhere" });
    await page.waitForSelector('[data-testid="app-made-elsewhere"]', { timeout: 10_000 });
    await screenshot(page, "defect-13-live-sidebar");
  });

  it("12: one row per event, with its collection and key, updated in place; badge and list agree", async () => {
    await shell.go("#/events");
    await page.waitForSelector('[data-testid="stream-status"]:has-text("live")');
    for (let i = 1; i <= 3; i++) await server.api("PUT", `/apps/shop/kv/orders/o-${i}`, { value: { n: i } });
    await server.api("PUT", "/apps/shop/kv/payments/p-1", { value: { amount: 5 } });
    const paymentRow = page.locator('[data-testid="stream-item"]:has-text("payments/p-1")');
    await paymentRow.waitFor();
    await page.waitForSelector('[data-testid="stream-item"]:has-text("payments/p-1"):has-text("dead")', { timeout: 30_000 });
    expect(await paymentRow.count()).toBe(1); // three attempts, one row
    expect(await paymentRow.innerText()).toContain("attempt 3/3");
    await expect.poll(() => page.locator('[data-testid="stream-item"][data-kind="event"]:has-text("orders/")').count()).toBe(3);
    await shell.deadLetterBadge().waitFor();
    expect(await shell.deadLetterBadge().innerText()).toBe("1");
    // Newest first.
    const times = await page.locator('[data-testid="stream-item"] .time').allInnerTexts();
    expect([...times].sort().reverse()).toEqual(times);
    await screenshot(page, "defect-12-one-row-per-event");
  });

  it("2: after leaving and coming back, history has the same rows; status 'done' lists done events", async () => {
    await shell.go("#/apps/shop");
    await shell.go("#/events");
    await expect.poll(() => page.locator('[data-testid="stream-item"][data-kind="event"]').count()).toBe(4);
    await page.selectOption('select[aria-label="Status"]', "done");
    const done = (await server.api<{ events: unknown[] }>("GET", "/events?status=done")).events.length;
    expect(done).toBe(3);
    await expect.poll(() => page.locator('[data-testid="stream-item"]').count()).toBe(done);
    await screenshot(page, "defect-02-filter-done");
    // The filter applies to live rows too: a new failing event does not appear under "done".
    await server.api("PUT", "/apps/shop/kv/orders/o-4", { value: { n: 4 } });
    await expect.poll(() => page.locator('[data-testid="stream-item"]').count(), { timeout: 15_000 }).toBe(4);
    await server.api("PUT", "/apps/shop/kv/payments/p-2", { value: { amount: 1 } });
    await page.selectOption('select[aria-label="Status"]', "");
  });

  it("a silent successful HTTP run (not stored) appears live, marked 'not stored', with nothing that would 404", async () => {
    await shell.go("#/events");
    await page.waitForSelector('[data-testid="stream-status"]:has-text("live")');
    const response = await fetch(`${server.url}/shop/quiet`);
    expect(await response.text()).toBe("ok");
    expect(response.headers.get("x-picloud-record")).toBe("aggregate");
    const id = response.headers.get("x-picloud-invocation");
    const row = page.locator('[data-testid="stream-item"][data-stored="false"]:has-text("quiet")');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.innerText()).toContain("not stored");
    await row.click();
    await page.waitForSelector('[data-testid="invocation-not-stored"]');
    expect(await page.locator('[data-testid="event-detail"] [data-testid="invocation-link"]').count()).toBe(0);
    if (id) expect(await page.locator('[data-testid="invocation-detail"]').innerText()).toContain(id);
    // Filters apply to it like to stored rows.
    await page.selectOption('select[aria-label="Status"]', "error");
    await expect.poll(() => row.count()).toBe(0);
    await page.selectOption('select[aria-label="Status"]', "");
    await row.waitFor();
    await screenshotBothSizes(page, "events-not-stored-live");
    // After a reload the run is gone from the list; the page says where silent successes are kept.
    await page.reload();
    await page.waitForSelector('[data-testid="stream-status"]:has-text("live")');
    expect(await page.locator('[data-testid="events-sampling-note"]').innerText()).toMatch(/aggregates/);
    expect(await row.count()).toBe(0);
    await screenshotBothSizes(page, "events-after-reload");
  });

  it("invocation search finds console output and errors", async () => {
    await page.fill('[data-testid="event-search"]', "card declined for p-1");
    await expect.poll(() => page.locator('[data-testid="stream-item"]').count()).toBe(3);
    await page.fill('[data-testid="event-search"]', "audit o-2");
    await expect.poll(() => page.locator('[data-testid="stream-item"]').count()).toBe(1);
    await screenshot(page, "feature-invocation-search");
    await page.fill('[data-testid="event-search"]', "");
  });

  it("20: the list is one tab stop with arrow keys; every control shows focus", async () => {
    await shell.go("#/events");
    await page.locator('[data-testid="stream-item"]').first().click();
    await page.waitForSelector('[data-testid="stream-item"][aria-selected="true"]');
    const first = await page.locator('[data-testid="stream-item"][aria-selected="true"]').getAttribute("id");
    await page.keyboard.press("ArrowDown");
    const second = await page.locator('[data-testid="stream-item"][aria-selected="true"]').getAttribute("id");
    expect(second).not.toBe(first);
    // Rows are not tab stops: Tab leaves the list.
    expect(await page.locator('[data-testid="stream-item"][tabindex="0"]').count()).toBe(0);
    // The connection selector shows keyboard focus.
    await page.focus('[data-testid="connection-select"]');
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    const outline = await page.locator(".conn-switch").evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).not.toBe("none");
    await screenshot(page, "defect-20-keyboard-focus");
  });

  it("19 and 21: one time format; a dead letter's attempts lead to the invocation with stack and logs", async () => {
    await shell.go("#/deadletters");
    await page.locator('[data-testid="dl-item"]').first().locator("button").click();
    const attempt = page.locator('[data-testid="attempt"]').first();
    await attempt.waitFor();
    expect(await attempt.innerText()).toMatch(/at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/);
    await screenshot(page, "defect-21-dead-letter-attempts");
    await attempt.locator('[data-testid="attempt-invocation"]').click();
    await page.waitForSelector('[data-testid="invocation-error"]:has-text("card declined")');
    expect(await page.locator('[data-testid="invocation-detail"]').innerText()).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/);
    expect(await page.locator('[data-testid="invocation-error"] .stack-trace').innerText()).toContain("charge.js:2");
    await screenshot(page, "defect-21-invocation-page");
  });
});
