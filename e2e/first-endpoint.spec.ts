// A new user's path from `picloud serve` to a first working endpoint, timed and counted:
// start (1), open the URL (2), paste the printed token (3), sign in (4), "Start with an example" (5).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ServeProcess, startServe } from "../runtime/testing/processes.js";
import { launchBrowser, newPage, screenshot } from "./support/browser.js";

describe("first endpoint", { timeout: 240_000 }, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-first-"));
  let serving: ServeProcess | undefined;

  afterAll(async () => {
    serving?.child.kill("SIGTERM");
    await serving?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("takes five interactions from `picloud serve` to an endpoint that answers", async () => {
    const started = Date.now();
    serving = await startServe(["--data-dir", dataDir], { PICLOUD_ADMIN_TOKEN: "" }); // 1: run serve
    const serveMs = Date.now() - started;
    expect(serving.token).toMatch(/^pc_/);
    const browser = await launchBrowser();
    try {
      const page = await newPage(browser);
      const uiStarted = Date.now();
      await page.goto(serving.url); // 2: open the printed URL
      await page.fill('[data-testid="login-token"]', serving.token ?? ""); // 3: paste the printed token
      await page.click('[data-testid="login-submit"]'); // 4: sign in
      await page.click('[data-testid="create-example"]'); // 5: start with the example
      const endpoint = page.locator('[data-testid="endpoint-url"] .endpoint-url');
      await endpoint.waitFor({ timeout: 90_000 }).catch(async (error) => {
        await screenshot(page, "first-endpoint-failed");
        throw error;
      });
      const url = await endpoint.innerText();
      const response = await fetch(`${url}?name=Ada`);
      expect(await response.json()).toMatchObject({ message: "Hello, Ada!" });
      const uiMs = Date.now() - uiStarted;
      console.log(`first endpoint: serve ready in ${serveMs} ms, UI steps in ${uiMs} ms (machine time, 5 interactions)`);
      await screenshot(page, "first-endpoint");
    } finally {
      await browser.close();
    }
  });
});
