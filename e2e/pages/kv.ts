// Page module: the KV browser.
import type { Page } from "playwright-core";

export class KvPage {
  constructor(readonly page: Page) {}

  async open(app: string): Promise<void> {
    await this.page.evaluate((a) => {
      window.location.hash = `#/apps/${a}/kv`;
    }, app);
    await this.page.waitForSelector('[data-testid="kv-keys"]');
  }

  async selectCollection(name: string): Promise<void> {
    await this.page.click(`[data-testid="collection-${name}"]`);
  }

  keys() {
    return this.page.locator('[data-testid="kv-key"]');
  }

  async filter(prefix: string): Promise<void> {
    await this.page.fill('[data-testid="kv-prefix"]', prefix);
  }

  async select(key: string): Promise<void> {
    await this.page.click(`[data-testid="kv-key"]:has-text("${key}")`);
    await this.page.waitForSelector('[data-testid="kv-value-input"]');
  }

  async setValueText(text: string): Promise<void> {
    await this.page.fill('[data-testid="kv-value-input"]', text);
  }
}
