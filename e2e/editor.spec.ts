// Scripts from the editor: deploy with Ctrl+S and call the endpoint, SDK autocompletion, deploy
// errors at their line, test runs with logs, and version history with restore.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EditorPage } from "./pages/editor.js";
import { screenshot, screenshotBothSizes } from "./support/browser.js";
import type { E2eServer } from "./support/server.js";
import { type SignedInSession, startSignedInSession } from "./support/session.js";

describe("script editor", { timeout: 120_000 }, () => {
  let session: SignedInSession;
  let server: E2eServer;
  let page: Page;
  let editor: EditorPage;

  beforeAll(async () => {
    session = await startSignedInSession({
      beforeSignIn: async (page, server) => {
        await screenshot(page, "00-blank").catch(() => {});
        await page.goto(server.url);
        await page.waitForSelector('[data-testid="login-token"]');
        await screenshot(page, "01-login");
      },
    });
    ({ server, page } = session);
    await session.shell.createApp("web");
    editor = new EditorPage(page);
  }, 90_000);

  afterAll(() => session?.close());

  it("deploys a script with Ctrl+S and its endpoint answers at once", async () => {
    await editor.open("web", "greet");
    await editor.setSource(
      "export default async function (ctx) {\n  console.log('greeting', ctx.request.query.name);\n  return { hello: ctx.request.query.name ?? 'world' };\n}\n",
    );
    await editor.saveWithKeyboard();
    await editor.waitDeployed(1);
    const url = await editor.endpointUrl();
    expect(url).toBe(`${server.url}/web/greet`);
    const response = await fetch(`${url}?name=Ada`);
    expect(await response.json()).toEqual({ hello: "Ada" });
    await page.waitForSelector('[data-testid="script-greet"]');
  });

  it("test run shows the response, status and logs", async () => {
    const result = await editor.testRun();
    expect(result.status).toBe("200");
    expect(result.response).toBe('{"hello":"world"}');
    expect(result.logs).toContain("greeting");
    await screenshot(page, "02-editor-test-run");
  });

  it("autocompletes the SDK: `collection` after `kv.`", async () => {
    const suggestion = page.locator('.suggest-widget .monaco-list-row[aria-label*="collection"]');
    const tryCompletion = async (waitMs: number) => {
      await editor.setSource("export default async function (ctx) {\n  const c = kv");
      await page.keyboard.type(".");
      // The TypeScript worker may still be starting (slow under load): ask again, as a user would with Ctrl+Space.
      const deadline = Date.now() + waitMs;
      while ((await suggestion.count()) === 0 && Date.now() < deadline) {
        await page.waitForTimeout(1_000);
        if ((await suggestion.count()) === 0) await page.keyboard.press("Control+Space");
      }
      return (await suggestion.count()) > 0;
    };
    if (!(await tryCompletion(15_000))) {
      // Known flake (see the issue note): the TypeScript worker sometimes answers "No suggestions"
      // until the editor is opened again. Reopen once; a second miss fails the test.
      console.warn("editor.spec: no completion on the first try; reopening the editor once");
      await page.reload();
      await editor.open("web", "greet");
      expect(await tryCompletion(30_000)).toBe(true);
    }
    expect(await suggestion.count()).toBeGreaterThan(0);
    await screenshot(page, "03-editor-autocomplete");
    await page.keyboard.press("Escape");
  });

  it("shows a deploy error at its line in the editor", async () => {
    await editor.setSource("export default async function () {\n  return {\n    a: 1,,\n  };\n}\n");
    await editor.saveWithKeyboard();
    const error = page.locator('[data-testid="deploy-error"]');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/line 3, column \d+.*SCRIPT_SYNTAX/);
    await page.waitForSelector('[data-testid="editor"] .squiggly-error');
    await screenshot(page, "04-editor-deploy-error");
    const versions = await server.api<{ versions: unknown[] }>("GET", "/apps/web/scripts/greet/versions");
    expect(versions.versions).toHaveLength(1);
  });

  it("keeps a version history with a diff and restores an earlier version", async () => {
    await editor.setSource("export default async function () {\n  return 'second';\n}\n");
    await editor.saveWithKeyboard();
    await editor.waitDeployed(2);
    expect(await (await fetch(`${server.url}/web/greet`)).text()).toBe("second");
    await page.click('[data-testid="panel-history"]');
    await page.click('[data-testid="version-1"]');
    await page.waitForSelector('[data-testid="history"] .monaco-diff-editor');
    // The diff opens wide (the side panel cuts code lines), side by side, as a modal dialog: a backdrop,
    // the page behind it inert, focus inside, Tab wrapping around within it.
    const wide = page.locator('[data-testid="diff-wide"]');
    await wide.waitFor();
    expect((await wide.boundingBox())?.width).toBeGreaterThan(900);
    const modal = await wide.evaluate((el) => ({
      modal: el.matches("dialog:modal"),
      role: el.getAttribute("role") ?? (el.tagName === "DIALOG" ? "dialog" : null),
      ariaModal: el.getAttribute("aria-modal"),
      backdrop: getComputedStyle(el, "::backdrop").backgroundColor,
      focusInside: el.contains(document.activeElement),
    }));
    expect(modal).toEqual({ modal: true, role: "dialog", ariaModal: "true", backdrop: "rgba(20, 26, 38, 0.45)", focusInside: true });
    const focusInside = () => wide.evaluate((el) => el.contains(document.activeElement));
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      expect(await focusInside(), `focus left the dialog after ${i + 1} Tab`).toBe(true);
    }
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Shift+Tab");
      expect(await focusInside(), `focus left the dialog after ${i + 1} Shift+Tab`).toBe(true);
    }
    // The page behind is inert: a click there does nothing while the dialog is open.
    await page.mouse.click(5, 5);
    expect(await wide.count()).toBe(1);
    await screenshotBothSizes(page, "05-editor-history-diff-wide");
    // Escape narrows it back into the panel (not modal) and gives focus back to the button that opened it.
    await page.keyboard.press("Escape");
    await expect.poll(() => wide.count()).toBe(0);
    const narrow = page.locator('[data-testid="diff-narrow"]');
    expect(await narrow.evaluate((el) => ({ open: (el as HTMLDialogElement).open, modal: el.matches(":modal") }))).toEqual({
      open: true,
      modal: false,
    });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("version-1");
    await screenshot(page, "05-editor-history-diff");
    await page.click('[data-testid="diff-toggle-wide"]');
    await wide.waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => wide.count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("diff-toggle-wide");
    await page.click('[data-testid="diff-toggle-wide"]');
    await wide.waitFor();
    await page.click('[data-testid="restore"]');
    await page.waitForSelector('[data-testid="version-3"]');
    expect(await (await fetch(`${server.url}/web/greet?name=Bo`)).json()).toEqual({ hello: "Bo" });
  });

  it("deletes a script: its endpoint is gone at once", async () => {
    await page.click('[data-testid="delete-script"]');
    await page.waitForSelector('[data-testid="new-script-name"]');
    expect((await fetch(`${server.url}/web/greet`)).status).toBe(404);
  });
});
