// The invocation page shows what went in and out: an HTTP run's request (credentials and secrets
// redacted) and response, a triggered run's return value, and the time each waited in the queue.
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Shell } from "./pages/shell.js";
import { screenshotBothSizes } from "./support/browser.js";
import type { E2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

const CHECKOUT = `export default async function (ctx) {
  console.log("checkout", ctx.request.body.items.length, "items");
  return { status: 201, headers: { "x-order": "o-17" }, body: { order: "o-17", total: ctx.request.body.total } };
}`;
const AUDIT = "export default async function (ctx) { return { audited: ctx.event.key, op: ctx.event.op, at: 'ledger' } }";

/** The seeded checkout run's request (credentials and secrets redacted) and response, as shown inside `scope`. */
async function expectCheckoutExchange(scope: Locator): Promise<void> {
  const request = scope.locator('[data-testid="invocation-request"]');
  await request.waitFor();
  expect(await request.locator(".request-line").innerText()).toBe("POST /shop/checkout/cart?coupon=SPRING&access_token=[redacted]");
  const headers = await scope.locator('[data-testid="request-headers"]').innerText();
  expect(headers).toMatch(/authorization\s+\[redacted\]/);
  expect(headers).toMatch(/x-stripe\s+\[secret:STRIPE_KEY\]/);
  expect(headers).toMatch(/content-type\s+application\/json/);
  // The JSON body is shown indented.
  expect(await scope.locator('[data-testid="request-body"]').innerText()).toContain('"sku": "tea"');
  expect(await scope.locator('[data-testid="invocation-response"] .pill').innerText()).toBe("201");
  expect(await scope.locator('[data-testid="response-headers"]').innerText()).toMatch(/x-order\s+o-17/);
}

describe("invocation page: request, response, return value", { timeout: 120_000 }, () => {
  let session: SignedInSession;
  let page: Page;
  let shell: Shell;
  let httpId: string;
  let kvId: string;

  async function seed(server: E2eServer): Promise<void> {
    await server.api("POST", "/apps", { id: "shop" });
    await server.api("PUT", "/apps/shop/secrets/STRIPE_KEY", { value: "sk_live_e2e_98765" });
    await server.api("PUT", "/apps/shop/scripts/checkout", { source: CHECKOUT });
    await server.api("PUT", "/apps/shop/scripts/audit", { source: AUDIT });
    await server.api("POST", "/apps/shop/triggers", { kind: "kv", script: "audit", collection: "orders" });
    const response = await fetch(`${server.url}/shop/checkout/cart?coupon=SPRING&access_token=abc123`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer very-private", "x-stripe": "sk_live_e2e_98765" },
      body: JSON.stringify({
        items: [
          { sku: "tea", qty: 2 },
          { sku: "cup", qty: 1 },
        ],
        total: 31.5,
      }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-picloud-record")).toBe("full"); // it logged, so it is stored
    httpId = response.headers.get("x-picloud-invocation") as string;
    await server.api("PUT", "/apps/shop/kv/orders/o-17", { value: { total: 31.5 } });
    for (let i = 0; i < 100 && !kvId; i++) {
      const { invocations } = await server.api<{ invocations: { id: string }[] }>("GET", "/invocations?app=shop&trigger=kv");
      kvId = invocations[0]?.id as string;
      if (!kvId) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(kvId).toMatch(/^[0-9a-f]{32}$/);
  }

  beforeAll(async () => {
    session = await startSignedInSession({ seed });
    ({ page, shell } = session);
  }, 90_000);

  afterAll(async () => {
    await session?.close();
  });

  it("an HTTP invocation shows its request with credentials redacted, its response and its queue time", async () => {
    await shell.go(`#/invocations/${httpId}`);
    await expectCheckoutExchange(page.locator('[data-testid="invocation-page"]'));
    expect(await page.locator('[data-testid="invocation-queued"]').innerText()).toMatch(/^\d+(\.\d+)? (µs|ms)$/);
    expect(await page.locator('[data-testid="invocation-page"]').innerText()).not.toContain("very-private");
    expect(await page.locator('[data-testid="invocation-page"]').innerText()).not.toContain("sk_live_e2e_98765");
    await screenshotBothSizes(page, "invocation-http-record");
  });

  it("the Events view's detail shows an HTTP invocation's request and response, a live one's too", async () => {
    await shell.go("#/events");
    await page.waitForSelector('[data-testid="stream-status"]:has-text("live")');
    await page.click(`#row-${httpId}`);
    const pane = page.locator('[data-testid="event-detail"]');
    await expectCheckoutExchange(pane);
    expect(await pane.innerText()).not.toContain("very-private");
    // The summary at the top says it in one line.
    expect(await pane.locator('[data-testid="invocation-http-summary"]').innerText()).toBe("POST /shop/checkout/cart → 201");
    await screenshotBothSizes(page, "events-http-detail");
    await pane.locator('[data-testid="invocation-response"]').scrollIntoViewIfNeeded();
    await screenshotBothSizes(page, "events-http-detail-response", () =>
      pane.locator('[data-testid="invocation-response"]').evaluate((el) => el.scrollIntoView({ block: "end" })),
    );

    // A run that arrives while the view is open: it is listed live and its detail has its request.
    const response = await fetch(`${session.server.url}/shop/checkout/live?via=events`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [{ sku: "pot", qty: 1 }], total: 12 }),
    });
    expect(response.status).toBe(201);
    const liveId = response.headers.get("x-picloud-invocation") as string;
    await page.waitForSelector(`#row-${liveId}`, { timeout: 10_000 });
    await page.click(`#row-${liveId}`);
    await pane.locator('[data-testid="invocation-request"] .request-line:has-text("PUT /shop/checkout/live?via=events")').waitFor();
    expect(await pane.locator('[data-testid="request-body"]').innerText()).toContain('"sku": "pot"');
  });

  it("a triggered invocation shows its return value", async () => {
    await shell.go(`#/invocations/${kvId}`);
    const value = page.locator('[data-testid="result-value"]');
    await value.waitFor();
    expect(JSON.parse(await value.innerText())).toEqual({ audited: "o-17", op: "insert", at: "ledger" });
    expect(await page.locator('[data-testid="invocation-http"]').count()).toBe(0);
    await page.locator('[data-testid="event-payload"]').waitFor();
    await screenshotBothSizes(page, "invocation-kv-record");
  });
});
