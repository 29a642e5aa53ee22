// The Nodes view against a real cluster: a manager and three nodes on one Postgres, one of them
// killed: it shows down (status, banner) while the others stay up with their load.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, startManager, startNode, stopProc } from "../runtime/testing/cluster.js";
import { createPostgresDatabase } from "../runtime/testing/databases.js";
import { Shell } from "./pages/shell.js";
import { launchBrowser, newPage, screenshotBothSizes } from "./support/browser.js";

const TOKEN = "pc_nodes_view_token_000000000";
const ENV = { PICLOUD_ADMIN_TOKEN: TOKEN, PICLOUD_HEARTBEAT_MS: "500" };

describe("nodes view", { timeout: 240_000 }, () => {
  let drop: () => Promise<void>;
  let manager: Proc;
  let nodes: Proc[] = [];
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const db = await createPostgresDatabase();
    drop = db.drop;
    [manager, browser] = await Promise.all([startManager(db.url, ENV), launchBrowser()]);
    nodes = await Promise.all(["pi-kitchen", "pi-garage", "pi-attic"].map((name) => startNode(db.url, name, ENV)));
    page = await newPage(browser);
    await new Shell(page).signIn(manager.url, TOKEN);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([...nodes, manager].filter(Boolean).map((p) => stopProc(p, "SIGKILL")));
    await drop?.();
  });

  it("lists every node live; a killed node turns down with a banner", async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    await fetch(`${manager.url}/api/v1/apps`, { method: "POST", headers, body: JSON.stringify({ id: "demo" }) });
    await fetch(`${manager.url}/api/v1/apps/demo/scripts/hi`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ source: "export default () => ({ hi: 1 })" }),
    });
    for (const node of nodes) for (let i = 0; i < 5; i++) await (await fetch(`${node.url}/demo/hi`)).arrayBuffer();
    await page.goto(`${manager.url}/#/nodes`);
    await page.waitForSelector('[data-testid="nodes-view"][data-ready="true"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="node-row"][data-status="up"]').length === 4);
    const victim = nodes[2] as Proc;
    victim.child.kill("SIGKILL");
    await victim.exited;
    await page.waitForSelector('[data-testid="node-row"][data-status="down"]', { timeout: 30_000 });
    await page.waitForSelector('[data-testid="node-down-banner"]');
    expect(await page.textContent('[data-testid="node-down-banner"]')).toContain("pi-attic");
    expect(await page.locator('[data-testid="node-row"][data-status="up"]').count()).toBe(3);
    await screenshotBothSizes(page, "20-nodes-one-down");
  });
});
