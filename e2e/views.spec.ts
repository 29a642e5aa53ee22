// Every view at 1440x900 and 1024x700, on a runtime with real data (scripts, KV, events, a dead
// letter, invocations): the screenshots are looked at by a person; the test checks that each
// view renders without browser errors and that nothing overflows the window sideways.
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../runtime/testing/until.js";
import { EditorPage } from "./pages/editor.js";
import type { Shell } from "./pages/shell.js";
import { SMALL, screenshot, screenshotBothSizes } from "./support/browser.js";
import type { E2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

const HELLO = readFileSync(new URL("../resources/examples/hello.js", import.meta.url), "utf8");

describe("every view at both sizes", { timeout: 180_000 }, () => {
  let session: SignedInSession;
  let server: E2eServer;
  let page: Page;
  let shell: Shell;

  beforeAll(async () => {
    session = await startSignedInSession({
      seed: async (server) => {
        await server.api("POST", "/apps", { id: "shop-with-a-rather-long-application-name" });
        await server.api("POST", "/apps", { id: "shop" });
        await server.api("PUT", "/apps/shop/scripts/hello", { source: HELLO });
        await server.api("PUT", "/apps/shop/scripts/billing-reconciliation-worker", {
          source:
            "export default async function (ctx) {\n  console.log('billing', ctx.event.key);\n  throw new Error('card declined for ' + ctx.event.key);\n}\n",
        });
        await server.api("POST", "/apps/shop/triggers", {
          kind: "kv",
          script: "billing-reconciliation-worker",
          collection: "orders",
          maxAttempts: 2,
          backoffMs: 50,
        });
        for (let i = 0; i < 3; i++) await fetch(`${server.url}/shop/hello?name=Visitor${i}`);
        await server.api("PUT", "/apps/shop/kv/orders/order-1", { value: { total: 42, items: ["book"] } });
        // Hooks cannot use expect.poll.
        await until(
          "one dead letter",
          async () => (await server.api<{ total: number }>("GET", "/deadletters")).total === 1 || undefined,
          30_000,
          100,
        );
      },
      beforeSignIn: async (page, server) => {
        await page.goto(server.url);
        await page.waitForSelector('[data-testid="login-token"]');
        await screenshotBothSizes(page, "view-login");
      },
    });
    ({ server, page, shell } = session);
  }, 120_000);

  afterAll(() => session?.close());

  /** Fails when the page scrolls sideways at 1024 px: everything must fit. */
  async function expectNoSidewaysScroll(): Promise<void> {
    await page.setViewportSize(SMALL);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  }

  it("apps", async () => {
    await shell.go("#/");
    await page.waitForSelector("text=warm sandboxes");
    await screenshotBothSizes(page, "view-apps");
    await expectNoSidewaysScroll();
  });

  it("an app's scripts", async () => {
    await shell.go("#/apps/shop");
    await page.waitForSelector("table.simple >> text=hello");
    await screenshotBothSizes(page, "view-app-scripts");
    await expectNoSidewaysScroll();
  });

  it("script editor with a test run", async () => {
    const editor = new EditorPage(page);
    await editor.open("shop", "hello");
    await page.fill('[data-testid="test-path"]', "/?name=Ada");
    await page.click('[data-testid="test-run-button"]');
    await page.waitForSelector('[data-testid="test-response"]');
    await screenshotBothSizes(page, "view-script-editor");
    await expectNoSidewaysScroll();
    const box = await page.locator('[data-testid="editor"]').boundingBox();
    expect(box?.width).toBeGreaterThan(600);
    expect(box?.height).toBeGreaterThan(400);
  });

  it("KV browser", async () => {
    await shell.go("#/apps/shop/kv");
    await page.click('[data-testid="collection-orders"]');
    await page.click('[data-testid="kv-key"]:has-text("order-1")');
    await page.waitForSelector('[data-testid="kv-value-input"]');
    await screenshotBothSizes(page, "view-kv");
    await expectNoSidewaysScroll();
    const box = await page.locator('[data-testid="kv-value"]').boundingBox();
    expect(box?.width).toBeGreaterThan(280);
  });

  it("app settings", async () => {
    await shell.go("#/apps/shop/settings");
    await page.waitForSelector('[data-testid="limits-card"]');
    await screenshotBothSizes(page, "view-app-settings");
    await expectNoSidewaysScroll();
  });

  it("events", async () => {
    await shell.go("#/events");
    await page.locator('[data-testid="stream-item"]:has-text("dead")').first().click();
    await page.waitForSelector('[data-testid="event-detail"]:has-text("card declined")');
    await screenshotBothSizes(page, "view-events");
    await expectNoSidewaysScroll();
  });

  it("invocation page", async () => {
    const [first] = (await server.api<{ invocations: { id: string }[] }>("GET", "/invocations?app=shop&status=error")).invocations;
    await shell.go(`#/invocations/${first?.id}`);
    await page.waitForSelector('[data-testid="invocation-error"]');
    await page.waitForSelector('[data-testid="event-detail-body"]');
    await screenshotBothSizes(page, "view-invocation");
    await expectNoSidewaysScroll();
  });

  it("dead letters", async () => {
    await shell.go("#/deadletters");
    await page.locator('[data-testid="dl-item"]').first().locator("button").click();
    await page.waitForSelector('[data-testid="dl-detail"]:has-text("#2")');
    await screenshotBothSizes(page, "view-dead-letters");
    await expectNoSidewaysScroll();
  });

  it("admin tokens", async () => {
    await shell.go("#/tokens");
    await page.waitForSelector('[data-testid="token-list"]');
    // The only token cannot be revoked (TOKEN_LAST): its button is disabled and the page says why.
    const { tokens } = await server.api<{ tokens: { id: string; name: string }[] }>("GET", "/tokens");
    expect(tokens).toHaveLength(1);
    const revoke = page.locator('[data-testid="token-list"] button:has-text("Revoke")');
    expect(await revoke.isDisabled()).toBe(true);
    expect(await revoke.getAttribute("title")).toMatch(/only token/);
    expect(await page.locator('[data-testid="token-last"]').innerText()).toMatch(/create another one first/);
    await screenshotBothSizes(page, "view-tokens-only-one");
    await page.fill('[data-testid="token-name"]', "laptop CLI");
    await page.click('[data-testid="token-create"]');
    await page.waitForSelector('[data-testid="token-created"]');
    await expect.poll(() => revoke.count()).toBe(2);
    expect(await revoke.first().isDisabled()).toBe(false);
    expect(await page.locator('[data-testid="token-last"]').count()).toBe(0);
    await screenshotBothSizes(page, "view-tokens");
    await expectNoSidewaysScroll();
  });

  /** Fails when a notice on the page renders as bare text: each is a box (a background and a border), as the styles give its kind. */
  async function expectNoticesBoxed(): Promise<void> {
    const notices = await page.$$eval(".notice", (elements) =>
      elements.map((element) => {
        const style = getComputedStyle(element);
        return { text: element.textContent?.slice(0, 40), background: style.backgroundColor, border: style.borderTopWidth };
      }),
    );
    expect(notices.length).toBeGreaterThan(0);
    for (const notice of notices) {
      expect(notice.background, notice.text).not.toBe("rgba(0, 0, 0, 0)");
      expect(notice.border, notice.text).not.toBe("0px");
    }
  }

  it("connections", async () => {
    await shell.go("#/connections");
    await page.waitForSelector('[data-testid="remotes-desktop-only"]'); // a browser manages only the runtime that serves it (CSP)
    await expectNoticesBoxed();
    await screenshotBothSizes(page, "view-connections");
    await expectNoSidewaysScroll();
  });

  it("command palette", async () => {
    await shell.go("#/apps/shop");
    await page.keyboard.press("Control+K");
    await page.fill('[data-testid="palette-input"]', "hel");
    await page.waitForSelector('[data-testid="palette-item"]:has-text("shop/hello")');
    await screenshotBothSizes(page, "view-palette");
    await page.keyboard.press("Escape");
  });

  it("collapsed sidebar at 1024 px", async () => {
    await page.setViewportSize(SMALL);
    const editor = new EditorPage(page);
    await editor.open("shop", "hello");
    await page.click('[data-testid="toggle-sidebar"]');
    await page.waitForSelector(".sidebar", { state: "detached" });
    await screenshot(page, "view-script-editor-collapsed-1024");
    await page.click('[data-testid="toggle-sidebar"]');
    await page.waitForSelector(".sidebar");
  });
});
