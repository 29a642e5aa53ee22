// `npm run serve` builds what it runs when missing or older than its sources: the dashboard, the runtime bundle, the PGlite template.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const built = path.join(root, "out", "renderer", "index.html");

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

const sources = Math.max(newest(path.join(root, "renderer")), statSync(path.join(root, "resources", "sdk", "picloud.d.ts")).mtimeMs);
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  process.stderr.write("Building the dashboard (first run, or its sources changed)…\n");
  execFileSync(process.execPath, [path.join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "renderer/vite.config.ts", "--logLevel", "warn"], {
    cwd: root,
    stdio: "inherit",
  });
}

// The runtime bundle `bin/picloud` prefers (it falls back to the sources when this is stale), and
// the PGlite template a new data directory is created from.
const runtimeBundle = path.join(root, "out", "runtime", "picloud.js");
if (!existsSync(runtimeBundle) || statSync(runtimeBundle).mtimeMs < newest(path.join(root, "runtime"))) {
  const { buildRuntime } = await import("./build-runtime.mjs");
  await buildRuntime();
}
const { buildTemplate } = await import("./build-pgdata-template.mjs");
if (buildTemplate()) process.stderr.write("Built the PGlite data-directory template.\n");
