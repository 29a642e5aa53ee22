// The control panel's connect-src in real Chromium. Served by a runtime, the panel reaches its own
// origin and nothing else: a fetch or event stream to another origin (one that would answer it:
// CORS open) is blocked by the CSP and never arrives. In the emulated desktop window it reaches the
// saved remote runtimes and still no other origin. The UI works under both (no violation while used).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowBrowserErrors } from "./support/browser.js";
import { type DesktopSession, startDesktopSession } from "./support/desktop.js";
import { type E2eServer, startE2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

/** A loopback server on another origin that answers anyone (CORS *) and counts what reaches it. */
let elsewhere: Server;
let elsewhereUrl: string;
let arrived = 0;

/** Records every CSP violation of every document the page loads. */
async function recordViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
}

const violations = (page: Page) => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

/** What the page sees when it fetches `url` and opens an event stream to it. */
function reach(page: Page, url: string): Promise<{ fetch: string; stream: string }> {
  return page.evaluate(async (target) => {
    const fetched = await fetch(target).then(
      (r) => `status ${r.status}`,
      (e: Error) => `failed: ${e.name}`,
    );
    const stream = await new Promise<string>((resolve) => {
      const source = new EventSource(target);
      source.onopen = () => resolve("open");
      source.onerror = () => resolve("error");
    });
    return { fetch: fetched, stream };
  }, url);
}

beforeAll(async () => {
  elsewhere = createServer((_request, response) => {
    arrived++;
    response.writeHead(200, { "access-control-allow-origin": "*", "content-type": "text/plain" }).end("reached");
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
  elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/data`;
});

afterAll(async () => {
  elsewhere?.closeAllConnections();
  await new Promise((resolve) => elsewhere?.close(resolve));
});

describe("the web-served control panel", { timeout: 180_000 }, () => {
  let session: SignedInSession;

  beforeAll(async () => {
    session = await startSignedInSession({ beforeSignIn: (page) => recordViolations(page) });
  }, 180_000);
  afterAll(() => session?.close());

  it("works under its CSP: signed in, an app, the event stream and connections load without a violation", async () => {
    const { page, shell } = session;
    await shell.createApp("csp-app");
    for (const [hash, ready] of [
      ["#/apps/csp-app", '[data-testid="app-csp-app"]'],
      ["#/events", '[data-testid="stream-status"]'],
      ["#/connections", '[data-testid="remotes-desktop-only"]'],
    ] as const) {
      await shell.go(hash);
      await page.waitForSelector(ready);
    }
    // A browser has no form for remote runtimes: it could not reach them.
    expect(await page.locator('[data-testid="connection-form"]').count()).toBe(0);
    expect(await violations(page)).toEqual([]);
  });

  it("a fetch or event stream to another origin is blocked by the CSP and never arrives", async () => {
    const { page } = session;
    allowBrowserErrors(page, /Refused to connect|Content Security Policy/);
    const before = arrived;
    expect(await reach(page, elsewhereUrl)).toEqual({ fetch: "failed: TypeError", stream: "error" });
    expect(arrived).toBe(before);
    expect(await violations(page)).toEqual([`connect-src ${elsewhereUrl}`, `connect-src ${elsewhereUrl}`]);
    // The same request from a page without the panel's CSP arrives: the policy is what blocked it.
    const control = await session.browser.newPage();
    await control.goto(elsewhereUrl);
    expect(await control.evaluate((url) => fetch(url).then((r) => r.text()), elsewhereUrl)).toBe("reached");
    await control.close();
    expect(arrived).toBeGreaterThan(before);
  });
});

describe("the desktop window (emulated)", { timeout: 180_000 }, () => {
  let session: DesktopSession;
  let remote: E2eServer;

  beforeAll(async () => {
    [session, remote] = await Promise.all([startDesktopSession(), startE2eServer()]);
  }, 180_000);
  afterAll(async () => {
    await session?.close();
    await remote?.stop().catch(() => {});
  });

  it("reaches a remote runtime once it is saved, and no other origin", async () => {
    const { page, shell } = session;
    allowBrowserErrors(page, /Refused to connect|Content Security Policy/);
    await recordViolations(page);
    await page.reload();
    await page.waitForSelector('[data-testid="connection-status"].up');
    const remoteApi = `${remote.url}/api/v1/apps`;
    // Not saved yet: the renderer cannot reach it (the main process checks it instead).
    expect((await reach(page, remoteApi)).fetch).toBe("failed: TypeError");
    expect(await violations(page)).toContain(`connect-src ${remoteApi}`);
    await remote.api("POST", "/apps", { id: "far-app" });
    await shell.go("#/connections");
    await page.fill('[data-testid="remote-name"]', "far");
    await page.fill('[data-testid="remote-url"]', remote.url);
    await page.fill('[data-testid="remote-token"]', remote.token);
    await page.click('[data-testid="remote-add"]');
    await page.waitForSelector('[data-testid="app-far-app"]');
    expect(session.csp()).toContain(`connect-src 'self' ${new URL(remote.url).origin};`);
    expect(await violations(page)).toEqual([]);
    expect((await reach(page, remoteApi)).fetch).toBe("status 401");
    const before = arrived;
    expect((await reach(page, elsewhereUrl)).fetch).toBe("failed: TypeError");
    expect(arrived).toBe(before);
    expect(await violations(page)).toContain(`connect-src ${elsewhereUrl}`);
  });
});
