// `npm run serve` builds what it runs when missing or older than its sources: the dashboard, the runtime
// bundle and the PGlite template. The three are independent, so they build at the same time (on a clean
// clone the dashboard's Vite build and the template's initdb each take seconds of one core): the first
// start waits for the longest of them, not for their sum.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/** Runs `args` with this Node; resolves when it exits 0, rejects with its exit code otherwise. */
export function runNode(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`node ${args.join(" ")} exited with ${signal ?? code}`)),
    );
  });
}

/** What `npm run serve` needs, each with whether it must be built and how. */
export function steps() {
  return [dashboardStep(), ...serverSteps()];
}

/**
 * What a `bin/picloud serve` process runs on: the runtime bundle and the PGlite template. `npm run bench`
 * builds these (no dashboard): without the template, a fresh data directory runs initdb in the server
 * process, and the bench's "RSS peak, fresh data dir" would measure initdb's ~800 MiB, not the shipped path.
 */
export function serverSteps() {
  return [runtimeStep(), templateStep()];
}

function dashboardStep() {
  const ui = path.join(root, "out", "renderer", "index.html");
  const uiSources = () => Math.max(newest(path.join(root, "renderer")), statSync(path.join(root, "resources", "sdk", "picloud.d.ts")).mtimeMs);
  return {
    name: "the dashboard",
    stale: () => !existsSync(ui) || statSync(ui).mtimeMs < uiSources(),
    build: () =>
      runNode([path.join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "renderer/vite.config.ts", "--logLevel", "warn"]),
  };
}

function runtimeStep() {
  // The runtime bundle `bin/picloud` prefers (it falls back to the sources when this is stale).
  const runtime = path.join(root, "out", "runtime", "picloud.js");
  return {
    name: "the runtime bundle",
    stale: () => !existsSync(runtime) || statSync(runtime).mtimeMs < newest(path.join(root, "runtime")),
    build: async () => (await import("./build-runtime.mjs")).buildRuntime(),
  };
}

function templateStep() {
  return {
    name: "the PGlite data-directory template",
    stale: async () => !(await import("./build-pgdata-template.mjs")).templateIsCurrent(),
    // A process of its own, like build-pgdata-template.mjs run by hand (its WASM memory is not ours).
    build: () => runNode([path.join(root, "scripts", "build-pgdata-template.mjs")]),
  };
}

/** Builds every stale step at once; reports each one's time; fails after all have ended if any failed. */
export async function ensureBuilt(all, log = (line) => process.stderr.write(`${line}\n`)) {
  const stale = [];
  for (const step of all) if (await step.stale()) stale.push(step);
  if (stale.length === 0) return [];
  log(`Building ${stale.map((s) => s.name).join(", ")} (first run, or the sources changed)…`);
  const started = performance.now();
  const results = await Promise.allSettled(
    stale.map(async (step) => {
      await step.build();
      log(`  ${step.name}: ${Math.round(performance.now() - started)} ms`);
    }),
  );
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${stale[i].name}: ${r.reason?.message ?? r.reason}`] : []));
  if (failed.length > 0) throw new Error(`Could not build ${failed.join("; ")}`);
  return stale.map((s) => s.name);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await ensureBuilt(steps());
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
