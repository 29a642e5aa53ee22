// A stand-in for the `electron` module, so the bundled main process (out/main/index.js) can be run
// under plain Node where no Electron binary exists. It records what the main process asks for and
// prints one line per window it would open; nothing here is used by the real app.
import { EventEmitter } from "node:events";

const userData = process.env.PICLOUD_STUB_USER_DATA;
if (!userData) throw new Error("PICLOUD_STUB_USER_DATA must name a temp dir");

const handlers = new Map();
export const ipcMain = {
  handle(channel, fn) {
    handlers.set(channel, fn);
  },
};
globalThis.__picloudIpc = handlers;

class App extends EventEmitter {
  whenReady() {
    return Promise.resolve();
  }
  getPath() {
    return userData;
  }
  requestSingleInstanceLock() {
    return true;
  }
  quit() {
    let prevented = false;
    this.emit("before-quit", { preventDefault: () => (prevented = true) });
    if (!prevented) process.exit(0);
  }
}
export const app = new App();
process.on("SIGTERM", () => app.quit());

export class BrowserWindow {
  static windows = [];
  static getAllWindows() {
    return BrowserWindow.windows;
  }
  constructor(options) {
    this.options = options;
    const events = new Map();
    const session = {
      permissionRequest: undefined,
      permissionCheck: undefined,
      headersReceived: undefined,
      setPermissionRequestHandler(fn) {
        this.permissionRequest = fn;
      },
      setPermissionCheckHandler(fn) {
        this.permissionCheck = fn;
      },
      webRequest: {
        onHeadersReceived: (fn) => {
          session.headersReceived = fn;
        },
      },
    };
    this.webContents = {
      events,
      session,
      windowOpen: undefined,
      on(name, fn) {
        events.set(name, fn);
      },
      setWindowOpenHandler(fn) {
        this.windowOpen = fn;
      },
    };
    BrowserWindow.windows.push(this);
  }
  /** Plays what a hostile page would try, against the handlers the main process installed. */
  async probe(url) {
    const origin = new URL(url).origin;
    const { events, session } = this.webContents;
    const navigate = (name, target, extra = {}) => {
      const handler = events.get(name);
      if (!handler) return "no handler";
      let prevented = false;
      handler({ url: target, ...extra, preventDefault: () => (prevented = true) }, target);
      return prevented ? "blocked" : "allowed";
    };
    const ipc = async (frame) => {
      try {
        return { ok: await handlers.get("connections:token")({ senderFrame: frame }, "local") };
      } catch (error) {
        return { refused: String(error.message) };
      }
    };
    const permission = await new Promise((resolve) =>
      session.permissionRequest ? session.permissionRequest(null, "media", resolve) : resolve("no handler"),
    );
    const csp = await new Promise((resolve) =>
      session.headersReceived ? session.headersReceived({ responseHeaders: {} }, (r) => resolve(r.responseHeaders)) : resolve(null),
    );
    // The control panel document's CSP is the main process's, naming the saved remote (and replacing the runtime's).
    await handlers.get("connections:save")(
      { senderFrame: { url: `${origin}/`, parent: null } },
      { name: "pi", url: "http://10.0.0.2:8787/", token: "pc_remote_token_0123456789" },
    );
    const uiDocument = await new Promise((resolve) =>
      session.headersReceived
        ? session.headersReceived(
            {
              url: `${origin}/`,
              resourceType: "mainFrame",
              responseHeaders: { "Content-Security-Policy": ["default-src *"], "X-Kept": ["1"] },
            },
            (r) => resolve(r.responseHeaders),
          )
        : resolve(null),
    );
    return {
      uiDocument,
      navigation: {
        ui: navigate("will-navigate", `${origin}/#/apps/x`),
        scriptEndpoint: navigate("will-navigate", `${origin}/evil/page`),
        elsewhere: navigate("will-navigate", "https://example.com/"),
        redirectToEndpoint: navigate("will-redirect", `${origin}/evil/page`),
        subframe: navigate("will-frame-navigate", `${origin}/`, { isMainFrame: false }),
      },
      ipc: {
        ui: await ipc({ url: `${origin}/`, parent: null }),
        scriptEndpoint: await ipc({ url: `${origin}/evil/page`, parent: null }),
        subframe: await ipc({ url: `${origin}/`, parent: {} }),
        none: await ipc(null),
      },
      permission,
      permissionCheck: session.permissionCheck ? session.permissionCheck(null, "media") : "no handler",
      cspAdded: csp?.["content-security-policy"] ?? null,
    };
  }
  async loadURL(url) {
    const response = await fetch(url);
    const channels = [...handlers.keys()].sort();
    const probe = await this.probe(url);
    process.stdout.write(
      `${JSON.stringify({ window: url, status: response.status, webPreferences: this.options.webPreferences, channels, probe })}\n`,
    );
  }
  isMinimized() {
    return false;
  }
  restore() {}
  focus() {}
}

export const safeStorage = {
  isEncryptionAvailable: () => false,
  encryptString: () => {
    throw new Error("no key store in the stub");
  },
  decryptString: () => {
    throw new Error("no key store in the stub");
  },
};
export const dialog = {
  showErrorBox(title, message) {
    process.stderr.write(`${title}: ${message}\n`);
  },
};
export const shell = { openExternal: async () => {} };
export default { app, BrowserWindow, ipcMain, safeStorage, dialog, shell };
