// A failing KV trigger produces a dead letter that shows in the UI (badge, list, details, events)
// and is replayed after the script is fixed in the editor.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EditorPage } from "./pages/editor.js";
import type { Shell } from "./pages/shell.js";
import { screenshot } from "./support/browser.js";
import type { E2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

describe("dead letters", { timeout: 120_000 }, () => {
  let session: SignedInSession;
  let server: E2eServer;
  let page: Page;
  let shell: Shell;

  beforeAll(async () => {
    session = await startSignedInSession();
    ({ server, page, shell } = session);
    await shell.createApp("orders");
  }, 90_000);

  afterAll(() => session?.close());

  it("a failing trigger's dead letter appears, and is replayed after fixing the script", async () => {
    const editor = new EditorPage(page);
    await editor.open("orders", "ship");
    await editor.setSource(
      "export default async function (ctx) {\n  if (!ctx.event.value.address) throw new Error('order ' + ctx.event.key + ' has no address');\n  await kv.collection('shipped').set(ctx.event.key, true);\n}\n",
    );
    await editor.saveWithKeyboard();
    await editor.waitDeployed(1);
    await editor.addKvTrigger("orders", { maxAttempts: 2, backoffMs: 100 });
    await screenshot(page, "08-editor-triggers");

    await shell.go("#/events");
    await page.waitForSelector('[data-testid="stream-status"]:has-text("live")');
    await server.api("PUT", "/apps/orders/kv/orders/o-1", { value: { address: null } });
    await page.waitForSelector('[data-testid="stream-item"]:has-text("dead")');
    await page.locator('[data-testid="stream-item"]:has-text("dead")').first().click();
    await page.waitForSelector('[data-testid="event-detail"]:has-text("has no address")');
    await screenshot(page, "09-events");

    await shell.deadLetterBadge().waitFor();
    expect(await shell.deadLetterBadge().innerText()).toBe("1");
    await shell.go("#/deadletters");
    await page.locator('[data-testid="dl-item"]').first().locator("button").click();
    await page.waitForSelector('[data-testid="dl-detail"]:has-text("#2")');
    expect(await page.locator('[data-testid="dl-event"]').innerText()).toContain('"key": "o-1"');
    await screenshot(page, "10-dead-letters");

    await editor.open("orders", "ship");
    await editor.setSource(
      "export default async function (ctx) {\n  await kv.collection('shipped').set(ctx.event.key, ctx.event.value.address ?? 'pickup');\n}\n",
    );
    await editor.saveWithKeyboard();
    await editor.waitDeployed(2);

    await shell.go("#/deadletters");
    await page.locator('[data-testid="dl-item"]').first().locator("button").click();
    await page.click('[data-testid="dl-replay-one"]');
    await page.waitForSelector('[data-testid="dl-notice"]:has-text("Replayed 1")');
    await expect
      .poll(
        async () => (await server.api<{ value: unknown }>("GET", "/apps/orders/kv/shipped/o-1").catch(() => ({ value: undefined }))).value,
      )
      .toBe("pickup");
    await page.waitForSelector("text=No dead letters");
    await shell.deadLetterBadge().waitFor({ state: "detached" });
  });
});
