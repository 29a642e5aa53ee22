// The exploit from issue 7 item 4, in real Chromium: a script that reflects a query parameter into
// text/html, opened by a signed-in admin (same tab and a new tab). The page's script must not be
// able to read the admin token, nor mint a new admin token with or without it.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowBrowserErrors } from "./support/browser.js";
import type { E2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

/** What the injected script reports back through the page title. */
interface Loot {
  readonly stored: string[];
  readonly storageError: string | null;
  readonly minted: number[];
}

// Look for anything token-like in both storages, then try to mint a token with it, with cookies,
// and with nothing. Results go into document.title (readable from the test, whatever the origin).
const PAYLOAD = `<script>
(async () => {
  const loot = { stored: [], storageError: null, minted: [] };
  try {
    for (const store of [localStorage, sessionStorage]) {
      for (let i = 0; i < store.length; i++) {
        const value = store.getItem(store.key(i));
        if (value && value.includes("pc_")) loot.stored.push(value);
      }
    }
  } catch (e) { loot.storageError = String(e && e.name); }
  const tokens = loot.stored.map((v) => (/pc_[A-Za-z0-9_-]+/.exec(v) || [""])[0]);
  for (const token of [...tokens, ""]) {
    try {
      const r = await fetch("/api/v1/tokens", {
        method: "POST",
        credentials: "include",
        headers: Object.assign({ "content-type": "application/json" }, token ? { authorization: "Bearer " + token } : {}),
        body: JSON.stringify({ name: "pwned" }),
      });
      loot.minted.push(r.status);
    } catch (e) { loot.minted.push(0); }
  }
  document.title = "LOOT:" + JSON.stringify(loot);
})();
</script>`;

describe("tenant HTML cannot reach the admin token", { timeout: 120_000 }, () => {
  let session: SignedInSession;
  let server: E2eServer;
  let page: Page;

  beforeAll(async () => {
    session = await startSignedInSession({
      seed: async (server) => {
        await server.api("POST", "/apps", { id: "evil" });
        await server.api("PUT", "/apps/evil/scripts/reflect", {
          source: `export default async (ctx) => ({ status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: "<!doctype html><title>x</title><body>" + (ctx.request.query.q ?? "") + "</body>" })`,
        });
      },
    });
    ({ server, page } = session);
  }, 90_000);

  afterAll(() => session?.close());

  async function loot(target: Page): Promise<Loot> {
    await target.goto(`${server.url}/evil/reflect?q=${encodeURIComponent(PAYLOAD)}`);
    await target.waitForFunction(() => document.title.startsWith("LOOT:"));
    return JSON.parse((await target.title()).slice("LOOT:".length)) as Loot;
  }

  async function tokenNames(): Promise<string[]> {
    const { tokens } = await server.api<{ tokens: { name: string }[] }>("GET", "/tokens");
    return tokens.map((t) => t.name);
  }

  it("the signed-in dashboard holds the token in this tab only", async () => {
    const storage = await page.evaluate(() => ({ local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) }));
    expect(storage.local).not.toContain(server.token);
    expect(storage.session).toContain(server.token);
  });

  it("a reflected script in the same tab gets an opaque origin: no storage, no token minted", async () => {
    // The page's attempts to mint a token are refused by the browser (CORS from an opaque origin):
    // those console errors are the attack failing, as it should.
    allowBrowserErrors(page, /\/api\/v1\/tokens/);
    const result = await loot(page);
    expect(result.stored).toEqual([]);
    expect(result.storageError).toBe("SecurityError");
    expect(result.minted.every((status) => status === 0 || status === 401)).toBe(true);
    expect(await tokenNames()).not.toContain("pwned");
  });

  it("the same page opened in a new tab of the signed-in browser gets nothing either", async () => {
    const tab = await page.context().newPage();
    try {
      const result = await loot(tab);
      expect(result.stored).toEqual([]);
      expect(result.minted.every((status) => status === 0 || status === 401)).toBe(true);
      expect(await tokenNames()).not.toContain("pwned");
    } finally {
      await tab.close();
    }
  });

  it("the dashboard still works after visiting the page (going back keeps the session)", async () => {
    await page.goto(server.url);
    await page.waitForSelector('[data-testid="connection-status"].up');
  });
});
