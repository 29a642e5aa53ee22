// Electron main process (thin): start the runtime in-process, open the window on it, close it on quit.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { app, BrowserWindow, dialog, safeStorage } from "electron";
import type { EmbeddedModule, Runtime } from "../runtime/embedded.js";
import { registerConnectionsIpc } from "./connections-ipc.js";
import { secureWindow } from "./secure-window.js";

const here = path.dirname(fileURLToPath(import.meta.url));
let runtime: Runtime | undefined;

/**
 * The runtime is not part of this bundle: it is `picloud serve`'s (out/runtime, built with this one),
 * loaded at run time, so the desktop app starts it exactly as the server does (bundled dependencies,
 * the prelude minified at build time, PGlite compiling while the runtime loads).
 */
async function loadRuntime(): Promise<EmbeddedModule> {
  const entry = path.join(here, "..", "runtime", "embedded.js");
  if (!existsSync(entry)) throw new Error(`The runtime bundle ${entry} is missing: run \`npm run build\`.`);
  return import(/* @vite-ignore */ pathToFileURL(entry).href);
}

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
  const { startEmbeddedRuntime } = await loadRuntime();
  runtime = await startEmbeddedRuntime({
    flags: { host: "127.0.0.1", port: 0, dataDir: path.join(userData, "data"), adminToken: token, ...settings(userData) },
    uiDir: path.join(here, "..", "renderer"),
  });
  const url = await runtime.listen();
  const remoteUrls = registerConnectionsIpc({ file: path.join(userData, "connections.json"), local: { url, token } });

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
  secureWindow(window, new URL(url).origin, remoteUrls);
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
