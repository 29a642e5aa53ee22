// Remote connections: a second runtime reached with its token; a wrong token or a node that is
// down gives a clear error.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Shell } from "./pages/shell.js";
import { allowBrowserErrors, launchBrowser, newPage, screenshot } from "./support/browser.js";
import { type E2eServer, startE2eServer } from "./support/server.js";

describe("connections", { timeout: 120_000 }, () => {
  let local: E2eServer;
  let remote: E2eServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [local, remote, browser] = await Promise.all([startE2eServer(), startE2eServer(), launchBrowser()]);
    await remote.api("POST", "/apps", { id: "remote-app" });
    page = await newPage(browser);
    await new Shell(page).signIn(local.url, local.token);
    await new Shell(page).go("#/connections");
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await local?.stop();
    await remote?.stop().catch(() => {});
  });

  it("refuses a wrong token with a clear error", async () => {
    await page.fill('[data-testid="remote-name"]', "basement");
    await page.fill('[data-testid="remote-url"]', remote.url);
    await page.fill('[data-testid="remote-token"]', "pc_wrong_token_for_this_node");
    await page.click('[data-testid="remote-add"]');
    const error = page.locator('[role="alert"]:has-text("Could not connect")');
    await error.waitFor();
    expect(await error.innerText()).toContain("AUTH_INVALID");
    await screenshot(page, "11-connections-wrong-token");
  });

  it("adds a second runtime with its token and switches to it", async () => {
    await page.fill('[data-testid="remote-token"]', remote.token);
    await page.click('[data-testid="remote-add"]');
    await page.waitForSelector('[data-testid="app-remote-app"]');
    expect(await page.locator('[data-testid="connection-select"] option:checked').innerText()).toBe("basement");
    await screenshot(page, "12-connections-remote");
  });

  it("shows clearly when the connected runtime is down", async () => {
    // The browser logs the refused connections of the health checks and the live stream.
    allowBrowserErrors(page, /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING/);
    await remote.stop();
    await page.reload();
    const banner = page.locator('[data-testid="connection-error"]');
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.innerText()).toContain("is not available");
    await page.waitForSelector('[data-testid="connection-status"].down');
    await screenshot(page, "13-connection-down");
    await page.selectOption('[data-testid="connection-select"]', { label: "This server" });
    await page.waitForSelector('[data-testid="connection-status"].up');
  });
});
