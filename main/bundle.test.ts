// The built desktop main process (out/main/index.js, which loads the runtime bundle out/runtime/embedded.js),
// run under Node with a stand-in for the Electron API: it must start the embedded runtime, register
// its IPC handlers, open a window on the runtime's UI with the secure web preferences, serve
// scripts, and close cleanly on quit. (The real Electron binary cannot be downloaded here.)
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { PiCloudApi } from "../runtime/client/api-client.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = path.join(root, "out", "main", "index.js");

describe("desktop main process bundle", () => {
  const userData = mkdtempSync(path.join(os.tmpdir(), "picloud-desktop-"));
  afterAll(() => rmSync(userData, { recursive: true, force: true }));

  it("is built by `npm run build` (main, the runtime bundle it loads, preload, renderer)", () => {
    for (const file of [
      "out/main/index.js",
      "out/runtime/embedded.js",
      "out/runtime/worker.js",
      "out/preload/index.cjs",
      "out/renderer/index.html",
    ]) {
      expect(existsSync(path.join(root, file)), file).toBe(true);
    }
  });

  it("loads the runtime from `picloud serve`'s bundle instead of carrying a second build of it", () => {
    // Only Electron and Node's built-ins: the runtime and its dependencies come from out/runtime.
    const main = readFileSync(bundle, "utf8");
    const imported = [...main.matchAll(/^import\s[^"']*["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(imported.filter((name) => name !== "electron" && !name?.startsWith("node:"))).toEqual([]);
    // That bundle has the guest prelude built in (no minifying at start).
    const runtimeDir = path.join(root, "out", "runtime");
    const chunks = readdirSync(runtimeDir).filter((file) => file.endsWith(".js"));
    expect(chunks.some((file) => readFileSync(path.join(runtimeDir, file), "utf8").includes("__PICLOUD_BUILT_PRELUDE__"))).toBe(false);
  });

  it("starts the runtime, opens a secure window on it, serves scripts and quits cleanly", { timeout: 90_000 }, async () => {
    const child = spawn(process.execPath, ["--import", path.join(root, "main", "testing", "electron-stub-loader.mjs"), bundle], {
      cwd: root,
      env: { ...process.env, PICLOUD_STUB_USER_DATA: userData, PICLOUD_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const opened = await new Promise<{
      window: string;
      status: number;
      webPreferences: Record<string, unknown>;
      channels: string[];
      probe: Record<string, unknown>;
    }>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line) resolve(JSON.parse(line));
      });
      void exited.then((code) => reject(new Error(`main exited with ${code}: ${stderr}`)));
    });
    try {
      expect(opened.status).toBe(200);
      expect(opened.window).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(opened.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
      expect(existsSync(String(opened.webPreferences.preload))).toBe(true);
      expect(opened.channels).toEqual([
        "connections:check",
        "connections:list",
        "connections:remove",
        "connections:save",
        "connections:storage",
        "connections:token",
      ]);
      // Without a key store the local token is kept in plain text; with one it is encrypted.
      const token = readFileSync(path.join(userData, "local-token"), "utf8");
      // The window shows only the control panel; IPC answers only its top frame; permissions are denied.
      expect(opened.probe).toEqual({
        uiDocument: {
          "X-Kept": ["1"],
          "content-security-policy": [expect.stringMatching(/; connect-src 'self' http:\/\/10\.0\.0\.2:8787; /)],
        },
        navigation: { ui: "allowed", scriptEndpoint: "blocked", elsewhere: "blocked", redirectToEndpoint: "blocked", subframe: "blocked" },
        ipc: {
          ui: { ok: token },
          scriptEndpoint: { refused: expect.stringContaining("not the PiCloud control panel") },
          subframe: { refused: expect.stringContaining("not the PiCloud control panel") },
          none: { refused: expect.stringContaining("not the PiCloud control panel") },
        },
        permission: false,
        permissionCheck: false,
        cspAdded: [expect.stringContaining("default-src 'self'")],
      });
      const api = new PiCloudApi({ url: opened.window, token });
      await api.POST("/api/v1/apps", { body: { id: "desk" } });
      await api.PUT("/api/v1/apps/{app}/scripts/{name}", {
        params: { path: { app: "desk", name: "hi" } },
        body: { source: "export default async function () { return { from: 'desktop' } }" },
      });
      expect(await (await fetch(`${opened.window}desk/hi`)).json()).toEqual({ from: "desktop" });
      expect(existsSync(path.join(userData, "data", "pgdata"))).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(existsSync(path.join(userData, "data", "picloud.lock"))).toBe(false);
  });
});
