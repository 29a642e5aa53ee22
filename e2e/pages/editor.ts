// Page module: the script editor (Monaco), deploys, test runs and triggers.
import type { Page } from "playwright-core";

export class EditorPage {
  constructor(readonly page: Page) {}

  async open(app: string, script: string): Promise<void> {
    await this.page.evaluate(
      ([a, s]) => {
        window.location.hash = `#/apps/${a}/scripts/${s}`;
      },
      [app, script] as const,
    );
    await this.page.waitForSelector('[data-testid="editor"][data-ready="true"] .monaco-editor .view-lines');
  }

  /** Replaces the editor's whole text, the way a user would (select all, type). */
  async setSource(source: string): Promise<void> {
    await this.page.click('[data-testid="editor"] .monaco-editor .view-lines');
    await this.page.keyboard.press("ControlOrMeta+A");
    await this.page.keyboard.press("Delete");
    // Monaco auto-closes brackets and quotes when typing: paste instead, as a user would.
    await this.page.evaluate((text) => {
      const target = document.activeElement as HTMLElement;
      const data = new DataTransfer();
      data.setData("text/plain", text);
      target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, source);
  }

  async saveWithKeyboard(): Promise<void> {
    await this.page.click('[data-testid="editor"] .monaco-editor .view-lines');
    await this.page.keyboard.press("ControlOrMeta+S");
  }

  async waitDeployed(version: number): Promise<void> {
    await this.page.waitForSelector(`[data-testid="deploy-ok"]:has-text("Deployed version ${version}")`);
  }

  async endpointUrl(): Promise<string> {
    const text = await this.page.locator('[data-testid="endpoint-url"]').innerText();
    return text.replace(/\s*Copy\s*$/, "").trim();
  }

  async testRun(): Promise<{ status: string; response: string; logs: string }> {
    await this.page.click('[data-testid="panel-test"]');
    await this.page.click('[data-testid="test-run-button"]');
    const result = this.page.locator('[data-testid="test-result"]');
    await result.waitFor();
    return {
      status: await result.locator(".pill").first().innerText(),
      response: (await this.page.locator('[data-testid="test-response"]').count())
        ? await this.page.locator('[data-testid="test-response"]').innerText()
        : "",
      logs: await this.page.locator('[data-testid="test-logs"]').innerText(),
    };
  }

  async addKvTrigger(collection: string, options: { maxAttempts: number; backoffMs: number }): Promise<void> {
    await this.page.click('[data-testid="panel-triggers"]');
    await this.page.fill('[data-testid="trigger-collection"]', collection);
    await this.page.fill('[data-testid="trigger-attempts"]', String(options.maxAttempts));
    await this.page.fill('[data-testid="trigger-backoff"]', String(options.backoffMs));
    await this.page.click('[data-testid="trigger-add"]');
    await this.page.waitForSelector(`[data-testid="triggers"] .list-item:has-text("KV ${collection}")`);
  }
}
