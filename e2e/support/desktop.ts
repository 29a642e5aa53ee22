// The desktop window emulated in headless Chromium (no Electron binary can be installed here): the
// renderer under the CSP the main process gives the control panel document (windowCsp of the saved
// remotes, set on every load of it), with `window.picloud` answered in Node by the main process's
// own validation and connection check over an in-memory list instead of IPC and connections.json.
import type { Browser, Page } from "playwright-core";
import { checkRemote } from "../../main/connection-check.js";
import { validateId, validateNewConnection, validateUrlAndToken } from "../../main/connection-validation.js";
import type { ConnectionInfo } from "../../main/ipc-contract.js";
import { isUiDocument, windowCsp } from "../../main/window-security.js";
import { Shell } from "../pages/shell.js";
import { launchBrowser, newPage } from "./browser.js";
import { type E2eServer, startE2eServer } from "./server.js";

export interface DesktopSession {
  readonly server: E2eServer;
  readonly browser: Browser;
  readonly page: Page;
  readonly shell: Shell;
  /** The control panel document's CSP as the main process sets it now. */
  csp(): string;
  close(): Promise<void>;
}

interface Remote extends ConnectionInfo {
  readonly token: string;
}

export async function startDesktopSession(): Promise<DesktopSession> {
  const [server, browser] = await Promise.all([startE2eServer(), launchBrowser()]);
  const close = async () => {
    await browser.close();
    await server.stop();
  };
  try {
    const origin = new URL(server.url).origin;
    const local: ConnectionInfo = { id: "local", name: "This computer", url: server.url, kind: "local" };
    let remotes: Remote[] = [];
    const info = ({ token: _token, ...rest }: Remote): ConnectionInfo => rest;
    const csp = () => windowCsp(remotes.map((r) => r.url));
    const main: Record<string, (arg: unknown) => unknown> = {
      storage: () => "encrypted",
      list: () => [local, ...remotes.map(info)],
      token: (id) => (validateId(id) === "local" ? server.token : remotes.find((r) => r.id === id)?.token),
      check: (raw) => {
        const { url, token } = validateUrlAndToken(raw);
        return checkRemote(url, token);
      },
      save: (raw) => {
        const remote: Remote = { id: crypto.randomUUID(), kind: "remote", ...validateNewConnection(raw) };
        remotes = [...remotes, remote];
        return info(remote);
      },
      remove: (id) => {
        remotes = remotes.filter((r) => r.id !== validateId(id));
      },
    };
    const page = await newPage(browser);
    // A document fulfilled by page.route has no address to Chromium (public space), so its calls to
    // loopback need the Local Network Access permission; the real window loads it from loopback.
    await page.context().grantPermissions(["local-network-access"], { origin });
    await page.exposeFunction("picloudMain", (op: string, arg: unknown) => main[op]?.(arg));
    await page.addInitScript(() => {
      const call = (op: string, arg?: unknown) =>
        (window as unknown as { picloudMain: (o: string, a: unknown) => Promise<never> }).picloudMain(op, arg);
      (window as unknown as { picloud: unknown }).picloud = {
        storage: () => call("storage"),
        listConnections: () => call("list"),
        connectionToken: (id: string) => call("token", id),
        checkConnection: (connection: unknown) => call("check", connection),
        saveConnection: (connection: unknown) => call("save", connection),
        removeConnection: (id: string) => call("remove", id),
      };
    });
    // What secure-window.ts does in onHeadersReceived for the control panel document.
    await page.route(
      (url) => isUiDocument(url.href.replace(/#.*$/, ""), origin),
      async (route) => {
        const response = await route.fetch();
        const headers = Object.fromEntries(Object.entries(response.headers()).filter(([name]) => name !== "content-security-policy"));
        await route.fulfill({ response, headers: { ...headers, "content-security-policy": csp() } });
      },
    );
    const shell = new Shell(page);
    await page.goto(server.url);
    await page.waitForSelector('[data-testid="connection-status"].up');
    return { server, browser, page, shell, csp, close };
  } catch (error) {
    await close();
    throw error;
  }
}
