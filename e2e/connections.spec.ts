// Remote connections: a second runtime reached with its token; URL validation; which runtime you
// are on; a runtime that goes down and comes back recovers without a reload; a revoked token says
// so and can be replaced in place. (Numbers refer to issue 11.) Remote runtimes are a desktop feature
// (in a browser the panel's CSP reaches its own origin only): this runs the renderer in the emulated
// desktop window, under the CSP the main process gives it, with the main process's connection check.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Shell } from "./pages/shell.js";
import { allowBrowserErrors, answerDialogs, expectDialog, screenshot } from "./support/browser.js";
import { type DesktopSession, startDesktopSession } from "./support/desktop.js";
import { type E2eServer, startE2eServer } from "./support/server.js";

describe("connections", { timeout: 240_000 }, () => {
  let session: DesktopSession;
  let remote: E2eServer;
  let page: Page;
  let shell: Shell;

  /** Saving or removing a remote loads the window again (its CSP names the saved runtimes): wait for that load. */
  const reloadsAfter = async (action: () => Promise<void>) => {
    const loaded = page.waitForEvent("load");
    await action();
    await loaded;
  };

  beforeAll(async () => {
    [session, remote] = await Promise.all([startDesktopSession(), startE2eServer()]);
    ({ page, shell } = session);
    await remote.api("POST", "/apps", { id: "remote-app" });
    await shell.go("#/connections");
  }, 240_000);

  afterAll(async () => {
    await session?.close();
    await remote?.stop().catch(() => {});
  });

  it("14: a URL without a scheme is refused as you type", async () => {
    await page.fill('[data-testid="remote-url"]', new URL(remote.url).host);
    await page.waitForSelector('[data-testid="remote-url-problem"]:has-text("must start with http:// or https://")');
    expect(await page.isDisabled('[data-testid="remote-add"]')).toBe(true);
    await screenshot(page, "defect-14-url-without-scheme");
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

  it("22: adds a second runtime and shows which one you are on (header and title)", async () => {
    await page.fill('[data-testid="remote-token"]', remote.token);
    await reloadsAfter(() => page.click('[data-testid="remote-add"]'));
    await page.waitForSelector('[data-testid="app-remote-app"]');
    expect(await page.locator('[data-testid="connection-select"] option:checked').innerText()).toBe("basement");
    expect(await page.locator('[data-testid="runtime-name"]').innerText()).toBe("basement");
    expect(await page.title()).toBe("basement — PiCloud");
    await screenshot(page, "defect-22-remote-name");
  });

  it("3: a runtime that goes down and comes back recovers without a reload", async () => {
    // The browser logs the refused connections of the health checks and the live stream, and the
    // requests whose socket the closing runtime dropped (ERR_SOCKET_NOT_CONNECTED: seen in CI).
    allowBrowserErrors(
      page,
      /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_SOCKET_NOT_CONNECTED/,
    );
    // A request that arrives while the runtime closes gets a coded 503 SHUTTING_DOWN (with CORS
    // headers, so the page reads it), which the browser logs as a failed load.
    allowBrowserErrors(page, /status of 503/);
    // In the emulated window (support/desktop.ts), Chromium words a refused connection to loopback as
    // a Local Network Access denial, and the request as ERR_FAILED.
    allowBrowserErrors(page, /access the `loopback` address space|ERR_FAILED/);
    await shell.go("#/apps/remote-app");
    await remote.halt();
    await page.waitForSelector('[data-testid="connection-status"].down', { timeout: 60_000 });
    expect(await page.locator('[data-testid="connection-error"]').innerText()).toContain("is not available");
    await screenshot(page, "defect-03-runtime-down");
    await remote.api("GET", "/apps").catch(() => undefined); // (still down)
    await remote.start();
    await page.waitForSelector('[data-testid="connection-status"].up', { timeout: 60_000 });
    await page.waitForSelector('[data-testid="connection-error"]', { state: "detached" });
    await page.waitForSelector('[data-testid="app-remote-app"]');
    await page.waitForSelector('[data-testid="stream-status"], .sidebar:not(:has-text("Unavailable"))');
    await screenshot(page, "defect-03-runtime-back");
  });

  it("4: a revoked token says 'token rejected' and the connection takes a new one in place", async () => {
    // The runtime's 401s on the health check and the stream are what this test is about.
    allowBrowserErrors(page, /status of 401/);
    const second = await remote.api<{ id: string; token: string }>("POST", "/tokens", { name: "panel" });
    await shell.go("#/connections");
    await page.click('[data-testid="edit-basement"]');
    await page.fill('[data-testid="remote-token"]', second.token);
    await reloadsAfter(() => page.click('[data-testid="remote-add"]'));
    await page.waitForSelector('[data-testid="connection-status"].up');
    await remote.api("DELETE", `/tokens/${second.id}`);
    await page.reload();
    await page.waitForSelector('[data-testid="connection-status"].rejected', { timeout: 60_000 });
    expect(await page.locator('[data-testid="connection-state"]').innerText()).toBe("token rejected");
    expect(await page.locator('[data-testid="connection-error"]').innerText()).toContain("rejected the saved token");
    await screenshot(page, "defect-04-token-rejected");
    await page.click('[data-testid="edit-connection-link"]');
    await page.click('[data-testid="edit-basement"]');
    await page.fill('[data-testid="remote-token"]', remote.token);
    await reloadsAfter(() => page.click('[data-testid="remote-add"]'));
    await page.waitForSelector('[data-testid="connection-status"].up');
    await page.waitForSelector('[data-testid="app-remote-app"]');
  });

  it("17: removing a connection asks first", async () => {
    await shell.go("#/connections");
    answerDialogs(page, false);
    expect(await expectDialog(page, () => page.click('[data-testid="remove-basement"]'))).toMatch(/Remove the connection 'basement'/);
    await expect(page.locator('[data-testid="connection-basement"]').count()).resolves.toBe(1);
    answerDialogs(page, true);
    await reloadsAfter(() => page.click('[data-testid="remove-basement"]'));
    await page.waitForSelector('[data-testid="connection-basement"]', { state: "detached" });
    await page.waitForSelector('[data-testid="connection-status"].up');
  });
});
