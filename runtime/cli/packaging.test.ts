// The desktop packaging config (electron-builder.json) against what the app runs: every file the built
// app loads is shipped, and the only node_modules shipped are the runtime bundle's externals (the
// packages that load files beside their own code), so a new external cannot be left out of the package.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without type declarations
import { EXTERNAL } from "../../scripts/build-runtime.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const config = JSON.parse(readFileSync(path.join(ROOT, "electron-builder.json"), "utf8")) as { files: string[]; asar: boolean };

describe("the desktop packaging config", () => {
  it("ships what `npm run build` makes for the desktop app", () => {
    for (const built of [
      "out/main/**",
      "out/preload/**",
      "out/renderer/**",
      "out/runtime/**",
      "out/pgdata-template.tar.gz",
      "out/pgdata-template.tar.gz.json",
      "package.json",
    ]) {
      expect(config.files, built).toContain(built);
    }
  });

  it("ships exactly the runtime bundle's externals (and the platform binaries of esbuild) from node_modules", () => {
    const shipped = config.files
      .filter((f) => f.startsWith("node_modules/"))
      .map((f) => f.replace(/^node_modules\//, "").replace(/\/\*\*$/, ""));
    expect(config.files).toContain("!node_modules/**");
    // Externals that are installed (quickjs-emscripten is named for its -core sibling's imports only).
    const installed = (EXTERNAL as string[])
      .map((name) => name.replace(/\/\*$/, ""))
      .filter((name) => existsSync(path.join(ROOT, "node_modules", name)));
    expect(installed.length).toBeGreaterThan(3);
    for (const name of installed) expect(shipped, name).toContain(name);
    expect(shipped.filter((name) => !installed.includes(name))).toEqual(["@esbuild"]);
  });
});
