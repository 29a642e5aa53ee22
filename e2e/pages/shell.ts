// Page module: signing in and moving around the shell.
import type { Page } from "playwright-core";

export class Shell {
  constructor(readonly page: Page) {}

  async signIn(url: string, token: string): Promise<void> {
    await this.page.goto(url);
    await this.page.fill('[data-testid="login-token"]', token);
    await this.page.click('[data-testid="login-submit"]');
    await this.page.waitForSelector('[data-testid="connection-status"].up');
  }

  async createApp(id: string): Promise<void> {
    await this.page.fill('[data-testid="new-app-input"]', id);
    await this.page.click('[data-testid="new-app-submit"]');
    await this.page.waitForSelector(`[data-testid="app-${id}"]`);
  }

  async go(hash: string): Promise<void> {
    await this.page.evaluate((h) => {
      window.location.hash = h;
    }, hash);
  }

  deadLetterBadge() {
    return this.page.locator('[data-testid="deadletter-badge"]');
  }
}
