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
    this.webContents = { on() {}, setWindowOpenHandler() {} };
    BrowserWindow.windows.push(this);
  }
  async loadURL(url) {
    const response = await fetch(url);
    const channels = [...handlers.keys()].sort();
    process.stdout.write(
      `${JSON.stringify({ window: url, status: response.status, webPreferences: this.options.webPreferences, channels })}\n`,
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
