// The KV browser: thousands of keys with cursor paging, prefix search, edit with validation, create, delete.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvPage } from "./pages/kv.js";
import { screenshot } from "./support/browser.js";
import type { E2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

const KEYS = 3_000;

describe("KV browser", { timeout: 120_000 }, () => {
  let session: SignedInSession;
  let server: E2eServer;
  let page: Page;
  let kv: KvPage;

  beforeAll(async () => {
    session = await startSignedInSession({
      seed: async (server) => {
        // Thousands of sequential writes in one invocation: give it wall time on a loaded machine.
        await server.api("POST", "/apps", { id: "store", settings: { limits: { wallMs: 180_000, cpuMs: 60_000 } } });
        // Seed through a script: thousands of keys in one invocation.
        await server.api("PUT", "/apps/store/scripts/seed", {
          source: `export default async function () {
            const items = kv.collection("items");
            for (let i = 0; i < ${KEYS}; i++) await items.set("item-" + String(i).padStart(5, "0"), { n: i, even: i % 2 === 0 });
            await kv.collection("users").set("ada", { name: "Ada" });
            return "ok";
          }`,
        });
        const seeded = await fetch(`${server.url}/store/seed`);
        expect(await seeded.text()).toBe("ok");
      },
    });
    ({ server, page } = session);
    kv = new KvPage(page);
  }, 90_000);

  afterAll(() => session?.close());

  it("lists collections with counts and pages through thousands of keys", async () => {
    await kv.open("store");
    await page.waitForSelector('[data-testid="collection-items"]:has-text("3000")');
    await kv.selectCollection("items");
    await page.waitForSelector('[data-testid="kv-key"]:has-text("item-00000")');
    // Virtualised: only the visible rows are in the DOM, however many are loaded.
    expect(await kv.keys().count()).toBeLessThan(80);
    await page.waitForSelector("text=200 keys loaded");
    for (let i = 0; i < 30; i++) {
      await page.locator('[data-testid="kv-keys"]').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      if (await page.locator("text=3000 keys loaded").count()) break;
      await page.waitForTimeout(150);
    }
    await page.waitForSelector("text=3000 keys loaded");
    await page.locator('[data-testid="kv-keys"]').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.waitForSelector('[data-testid="kv-key"]:has-text("item-02999")');
    await screenshot(page, "06-kv-browser");
  });

  it("searches by prefix", async () => {
    await kv.filter("item-0123");
    await page.waitForSelector("text=10 keys loaded");
    const keys = await kv.keys().allInnerTexts();
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `item-0123${i}`));
  });

  it("edits a value with JSON validation, then deletes the key", async () => {
    await kv.select("item-01234");
    expect(await page.locator('[data-testid="kv-value-input"]').inputValue()).toContain('"n": 1234');
    await kv.setValueText('{ "n": 1234, "note": ');
    await page.waitForSelector('[data-testid="kv-json-error"]');
    expect(await page.locator('[data-testid="kv-save"]').isDisabled()).toBe(true);
    await screenshot(page, "07-kv-invalid-json");
    await kv.setValueText('{ "n": 1234, "note": "edited" }');
    await page.click('[data-testid="kv-save"]');
    await expect
      .poll(async () => (await server.api<{ value: unknown }>("GET", "/apps/store/kv/items/item-01234")).value)
      .toEqual({ n: 1234, note: "edited" });
    await page.click('[data-testid="kv-delete"]');
    await expect
      .poll(
        async () =>
          (await fetch(`${server.url}/api/v1/apps/store/kv/items/item-01234`, { headers: { authorization: `Bearer ${server.token}` } }))
            .status,
      )
      .toBe(404);
    await page.waitForSelector("text=9 keys loaded");
  });

  it("creates a key", async () => {
    await kv.filter("");
    await page.click('[data-testid="kv-new-key"]');
    await page.fill('[data-testid="kv-key-input"]', "fresh");
    await kv.setValueText('["a", 1]');
    await page.click('[data-testid="kv-save"]');
    await expect.poll(async () => (await server.api<{ value: unknown }>("GET", "/apps/store/kv/items/fresh")).value).toEqual(["a", 1]);
  });
});
