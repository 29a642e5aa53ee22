// Secrets and egress on the app's settings page, and a script's own settings on its page, against a
// real runtime: what the UI sets is what scripts run with, values never come back, deletions ask,
// changes made elsewhere show up live.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Shell } from "./pages/shell.js";
import { expectDialog, screenshotBothSizes } from "./support/browser.js";
import type { E2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

const SECRET = "s3cr3t-value-never-shown";

describe("secrets, egress and per-script settings", { timeout: 120_000 }, () => {
  let session: SignedInSession;
  let server: E2eServer;
  let page: Page;
  let shell: Shell;

  beforeAll(async () => {
    session = await startSignedInSession({
      seed: async (server) => {
        // The app keeps responses to 1 KiB; `big` answers 2,000 characters.
        await server.api("POST", "/apps", { id: "shop", settings: { limits: { responseBytes: 1024 } } });
        await server.api("PUT", "/apps/shop/scripts/env", {
          source: "export default async (ctx) => ({ length: ctx.env.API_KEY ? ctx.env.API_KEY.length : null })",
        });
        await server.api("PUT", "/apps/shop/scripts/big", { source: "export default async () => 'x'.repeat(2000)" });
        // Called only in allowlist mode, where the name is refused before DNS: no traffic leaves loopback.
        await server.api("PUT", "/apps/shop/scripts/outbound", {
          source:
            "export default async () => { try { await fetch('https://public.example/'); return 'reached'; } catch (e) { return e.code; } }",
        });
      },
    });
    ({ server, page, shell } = session);
  }, 90_000);

  afterAll(() => session?.close());

  const endpoint = async (script: string) => {
    const response = await fetch(`${server.url}/shop/${script}`);
    return { status: response.status, body: await response.text() };
  };

  it("sets, replaces and deletes a secret; its value is never shown back", async () => {
    await shell.go("#/apps/shop/settings");
    await page.waitForSelector('[data-testid="secrets-card"]');
    await page.fill('[data-testid="secret-name"]', "API_KEY");
    await page.fill('[data-testid="secret-value"]', SECRET);
    expect(await page.getAttribute('[data-testid="secret-value"]', "type")).toBe("password");
    await page.click('[data-testid="secret-save"]');
    await page.waitForSelector('[data-testid="secret-saved"]:has-text("Set API_KEY")');
    await page.waitForSelector('[data-testid="secret-API_KEY"]');
    expect(await page.inputValue('[data-testid="secret-value"]')).toBe("");
    expect(await page.content()).not.toContain(SECRET);
    expect(JSON.parse((await endpoint("env")).body)).toEqual({ length: SECRET.length });

    // Replace: the row's button names the secret in the form; the old value is not shown.
    await page.click('[aria-label="Replace API_KEY"]');
    expect(await page.inputValue('[data-testid="secret-name"]')).toBe("API_KEY");
    expect(await page.textContent('[data-testid="secret-save"]')).toBe("Replace");
    await page.fill('[data-testid="secret-value"]', "short");
    await page.click('[data-testid="secret-save"]');
    await page.waitForSelector('[data-testid="secret-saved"]:has-text("Replaced API_KEY")');
    expect(JSON.parse((await endpoint("env")).body)).toEqual({ length: 5 });

    // Set elsewhere (CLI, API): the list follows live.
    await server.api("PUT", "/apps/shop/secrets/WEBHOOK_TOKEN", { value: "from-the-cli" });
    await page.waitForSelector('[data-testid="secret-WEBHOOK_TOKEN"]', { timeout: 10_000 });
    // A name the API would refuse is caught in the form.
    await page.fill('[data-testid="secret-name"]', "9lives");
    expect(await page.isDisabled('[data-testid="secret-save"]')).toBe(true);
    await page.fill('[data-testid="secret-name"]', "");

    // Egress: allow two patterns, and a bad one gets the API's coded answer.
    await page.fill('[data-testid="egress-pattern"]', "ha.lan:8123");
    await page.click('[data-testid="egress-allow"]');
    await page.waitForSelector('[data-testid="egress-ha.lan:8123"]');
    await page.fill('[data-testid="egress-pattern"]', "192.168.1.0/24");
    await page.press('[data-testid="egress-pattern"]', "Enter");
    await page.waitForSelector('[data-testid="egress-192.168.1.0/24"]');
    await page.fill('[data-testid="egress-pattern"]', "http://nope");
    await page.click('[data-testid="egress-allow"]');
    await page.waitForSelector('[data-testid="egress-card"] [role="alert"]:has-text("EGRESS_INVALID_PATTERN")');
    // Typing again clears the refusal.
    await page.fill('[data-testid="egress-pattern"]', "http://nop");
    await page.waitForSelector('[data-testid="egress-card"] [role="alert"]', { state: "detached" });
    expect((await server.api<{ patterns: { pattern: string }[] }>("GET", "/apps/shop/egress")).patterns.map((p) => p.pattern)).toEqual([
      "192.168.1.0/24",
      "ha.lan:8123",
    ]);
    await page.fill('[data-testid="egress-pattern"]', "");
    await screenshotBothSizes(page, "settings-secrets-egress", () =>
      page.locator('[data-testid="secrets-card"]').evaluate((card) => card.scrollIntoView({ block: "start" })),
    );

    // Removing a pattern and deleting a secret ask first.
    const closing = await expectDialog(page, () => page.click('[aria-label="Remove 192.168.1.0/24"]'));
    expect(closing).toContain("192.168.1.0/24");
    await page.waitForSelector('[data-testid="egress-192.168.1.0/24"]', { state: "detached" });
    const deleting = await expectDialog(page, () => page.click('[aria-label="Delete API_KEY"]'));
    expect(deleting).toContain("API_KEY");
    await page.waitForSelector('[data-testid="secret-API_KEY"]', { state: "detached" });
    expect(JSON.parse((await endpoint("env")).body)).toEqual({ length: null });
    expect((await server.api<{ patterns: unknown[] }>("GET", "/apps/shop/egress")).patterns).toHaveLength(1);

    // Allowlist mode: only the patterns (now ha.lan:8123) are reachable, the public internet included;
    // a name no pattern names is refused before it is resolved.
    expect(await page.isChecked('[data-testid="egress-allowlist-mode"]')).toBe(false);
    await page.click('[data-testid="egress-allowlist-mode"]');
    await page.waitForSelector('[data-testid="egress-mode-summary"]:has-text("only what a pattern opens")');
    expect((await server.api<{ mode: string }>("GET", "/apps/shop/egress")).mode).toBe("allowlist");
    expect(await endpoint("outbound")).toEqual({ status: 200, body: "FETCH_DENIED" });
    await screenshotBothSizes(page, "settings-egress-allowlist", () =>
      page.locator('[data-testid="egress-card"]').evaluate((card) => card.scrollIntoView({ block: "start" })),
    );
    // Set elsewhere (CLI, API): the card follows live.
    await server.api("PUT", "/apps/shop/egress/mode", { mode: "public" });
    await page.waitForSelector('[data-testid="egress-allowlist-mode"]:not(:checked)', { timeout: 10_000 });
    await page.waitForSelector('[data-testid="egress-mode-summary"]:has-text("any public address")');
  });

  it("a script's settings show what it runs with and where each value comes from; saving applies them", async () => {
    expect((await endpoint("big")).status).toBe(500);
    await shell.go("#/apps/shop/scripts/big");
    await page.click('[data-testid="panel-settings"]');
    await page.waitForSelector('[data-testid="script-settings"][data-ready="true"]');
    const source = (name: string) => page.getAttribute(`[data-testid="source-${name}"]`, "data-source");
    expect(await page.textContent('[data-testid="effective-responseBytes"]')).toBe("1024");
    expect(await source("responseBytes")).toBe("app");
    expect(await source("cpuMs")).toBe("server");
    expect(await source("strict")).toBe("server");

    // A value out of bounds is caught before it is sent.
    await page.fill('[data-testid="script-limit-responseBytes"]', "12");
    await page.waitForSelector('[data-testid="script-limit-row-responseBytes"] .error-text');
    expect(await page.isDisabled('[data-testid="script-settings-save"]')).toBe(true);

    await page.fill('[data-testid="script-limit-responseBytes"]', "4096");
    await page.selectOption('[data-testid="script-strict"]', "on");
    await page.click('[data-testid="script-settings-save"]');
    await page.waitForSelector('[data-testid="script-settings-saved"]');
    await page.waitForSelector('[data-testid="source-responseBytes"][data-source="script"]');
    expect(await page.textContent('[data-testid="effective-responseBytes"]')).toBe("4096");
    expect(await source("strict")).toBe("script");
    expect(await endpoint("big")).toMatchObject({ status: 200 });
    // At 1024 px the panels sit below the editor: show the settings card, from its head.
    await screenshotBothSizes(page, "settings-script", () =>
      page.locator('[data-testid="script-settings"]').evaluate((card) => card.scrollIntoView({ block: "start" })),
    );

    // Changed elsewhere: the panel follows live, and the script runs with the new value.
    await server.api("PUT", "/apps/shop/scripts/big/settings", { settings: { limits: { cpuMs: 3000 } } });
    await page.waitForSelector('[data-testid="source-cpuMs"][data-source="script"]', { timeout: 10_000 });
    await page.waitForSelector('[data-testid="source-responseBytes"][data-source="app"]');
    expect(await page.inputValue('[data-testid="script-limit-responseBytes"]')).toBe("");
    expect(await page.inputValue('[data-testid="script-limit-cpuMs"]')).toBe("3000");
    expect((await endpoint("big")).status).toBe(500);
  });
});
