// Bundles the runtime for `picloud serve` (out/runtime/picloud.mjs) and its executor worker
// (out/runtime/worker.js): starting from one ES module instead of ~100 TypeScript sources through
// tsx saves most of the start-up time. Dependencies stay in node_modules (PGlite and QuickJS load
// their WASM files relative to their own packages). Chunks stay beside the entry, whose depth below
// the repository root the runtime relies on (../../package.json, ../../out/renderer).
import { build } from "esbuild";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = path.join(root, "out", "runtime");

export async function buildRuntime() {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: { picloud: "runtime/cli/bin.ts", worker: "runtime/executor/worker.ts" },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    outExtension: { ".js": ".js" },
    chunkNames: "chunk-[hash]",
    sourcemap: "linked",
    logLevel: "warning",
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  await buildRuntime();
  process.stderr.write(`runtime bundle: out/runtime (${Math.round(performance.now() - started)} ms)\n`);
}
