// Electron main process (thin): start the runtime in-process, open the window on it, close it on quit.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { app, BrowserWindow, dialog, safeStorage } from "electron";
import { type Runtime, startRuntime } from "../runtime/main.js";
import { loadConfig } from "../runtime/shared/config.js";
import { createLogger } from "../runtime/shared/log.js";
import { registerConnectionsIpc } from "./connections-ipc.js";
import { secureWindow } from "./secure-window.js";

const here = path.dirname(fileURLToPath(import.meta.url));
let runtime: Runtime | undefined;

/** The embedded runtime's admin token: made once, kept encrypted (when the OS allows) in user data. */
function localToken(dir: string): string {
  const file = path.join(dir, "local-token");
  if (existsSync(file)) {
    const stored = readFileSync(file);
    return safeStorage.isEncryptionAvailable() && stored.subarray(0, 3).toString() !== "pc_"
      ? safeStorage.decryptString(stored)
      : stored.toString();
  }
  const token = `pc_${randomBytes(32).toString("base64url")}`;
  writeFileSync(file, safeStorage.isEncryptionAvailable() ? safeStorage.encryptString(token) : token, { mode: 0o600 });
  return token;
}

/** Optional settings.json in user data: {"databaseUrl": "postgres://…"} runs on an external Postgres. */
function settings(dir: string): { databaseUrl?: string } {
  try {
    return JSON.parse(readFileSync(path.join(dir, "settings.json"), "utf8")) as { databaseUrl?: string };
  } catch {
    return {};
  }
}

async function start(): Promise<void> {
  const userData = app.getPath("userData");
  mkdirSync(userData, { recursive: true });
  const token = localToken(userData);
  const config = loadConfig({ host: "127.0.0.1", port: 0, dataDir: path.join(userData, "data"), adminToken: token, ...settings(userData) });
  runtime = await startRuntime({ config, logger: createLogger(config.logLevel), uiDir: path.join(here, "..", "renderer") });
  const url = await runtime.listen();
  registerConnectionsIpc({ file: path.join(userData, "connections.json"), local: { url, token } });

  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    title: "PiCloud",
    backgroundColor: "#141a26",
    webPreferences: {
      preload: path.join(here, "..", "preload", "index.cjs"),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  // The window only ever shows the control panel document; links elsewhere open in the browser.
  secureWindow(window, new URL(url).origin);
  await window.loadURL(`${new URL(url).origin}/`);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on("second-instance", () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app.whenReady().then(start, (error: unknown) => {
    dialog.showErrorBox("PiCloud could not start", String((error as Error)?.message ?? error));
    app.quit();
  });
  app.on("window-all-closed", () => app.quit());
  let closing = false;
  app.on("before-quit", (event) => {
    if (closing || !runtime) return;
    closing = true;
    event.preventDefault();
    void runtime.close().finally(() => app.quit());
  });
}
