// The setup most specs share: a fresh `picloud serve`, headless Chromium, one watched page signed
// in to the runtime. `seed` runs against the server while the browser starts; `beforeSignIn` sees
// the page before the token is entered (e.g. to photograph the login view).
import type { Browser, Page } from "playwright-core";
import { Shell } from "../pages/shell.js";
import { launchBrowser, newPage } from "./browser.js";
import { type E2eServer, startE2eServer } from "./server.js";

export interface SignedInSession {
  readonly server: E2eServer;
  readonly browser: Browser;
  readonly page: Page;
  readonly shell: Shell;
  /** Closes the browser and stops the server (its data directory goes too). */
  close(): Promise<void>;
}

export interface SessionOptions {
  readonly seed?: (server: E2eServer) => Promise<void>;
  readonly beforeSignIn?: (page: Page, server: E2eServer) => Promise<void>;
}

export async function startSignedInSession(options: SessionOptions = {}): Promise<SignedInSession> {
  const serverStarting = startE2eServer();
  const browserStarting = launchBrowser();
  const [server, browser] = await Promise.allSettled([serverStarting, browserStarting]);
  const close = async () => {
    if (browser.status === "fulfilled") await browser.value.close();
    if (server.status === "fulfilled") await server.value.stop();
  };
  if (server.status === "rejected" || browser.status === "rejected") {
    await close();
    throw server.status === "rejected" ? server.reason : (browser as PromiseRejectedResult).reason;
  }
  try {
    await options.seed?.(server.value);
    const page = await newPage(browser.value);
    await options.beforeSignIn?.(page, server.value);
    const shell = new Shell(page);
    await shell.signIn(server.value.url, server.value.token);
    return { server: server.value, browser: browser.value, page, shell, close };
  } catch (error) {
    await close();
    throw error;
  }
}
