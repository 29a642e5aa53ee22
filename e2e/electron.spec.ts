// The desktop shell under Playwright's Electron driver. It needs the Electron binary, which this
// build machine cannot download: without it, the test is reported as skipped, never as passed.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { _electron } from "playwright-core";
import { describe, expect, it } from "vitest";

/** The Electron binary, if one is installed, found without `require("electron")` (which would try to download it). */
function electronBinary(): string | undefined {
  const packageDir = path.dirname(createRequire(import.meta.url).resolve("electron/package.json"));
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const pathFile = path.join(packageDir, "path.txt");
  const relative = existsSync(pathFile) ? readFileSync(pathFile, "utf8").trim() : process.platform === "linux" ? "electron" : undefined;
  if (!relative) return undefined;
  const candidate = override ? path.join(override, relative) : path.join(packageDir, "dist", relative);
  return existsSync(candidate) ? candidate : undefined;
}

const binary = electronBinary();
if (!binary)
  console.warn("electron.spec: no Electron binary on this machine (it cannot be downloaded here); skipping the desktop shell test.");

describe("desktop shell (needs the Electron binary)", () => {
  it.skipIf(!binary)("starts the embedded runtime and opens the control panel", { timeout: 120_000 }, async () => {
    const app = await _electron.launch({ executablePath: binary, args: ["out/main/index.js"] });
    try {
      const window = await app.firstWindow();
      await window.waitForSelector('[data-testid="connection-status"].up', { timeout: 60_000 });
      expect(await window.title()).toBe("PiCloud");
      const webPreferences = await app.evaluate(({ BrowserWindow }) => {
        const contents = BrowserWindow.getAllWindows()[0]?.webContents as unknown as { getLastWebPreferences(): unknown } | undefined;
        return contents?.getLastWebPreferences();
      });
      expect(webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    } finally {
      await app.close();
    }
  });
});
