// Bundles the runtime for `picloud serve` (out/runtime/picloud.js), for the desktop app's main process
// (out/runtime/embedded.js, which out/main loads at run time) and their executor worker
// (out/runtime/worker.js): starting from a few ES modules instead of ~100 TypeScript sources through
// tsx, and ~1,500 files of dependencies (typebox alone is ~700 ES modules), saves most of the
// start-up time. Dependencies that load files relative to their own package (WASM, binaries, worker
// scripts) stay in node_modules. Chunks stay beside the entry, whose depth below the repository root
// the runtime relies on (../../package.json, ../../out/renderer). Work the runtime would otherwise do
// at every start is done here once: the guest prelude is minified into the bundle.
import { build } from "esbuild";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = path.join(root, "out", "runtime");

/**
 * Packages that stay in node_modules: each finds files next to its own code (PGlite's and QuickJS's
 * WASM and data files, esbuild's binary). Everything else is bundled, pino too: only its transports
 * (unused: the runtime logs to stderr with pino.destination) would look for a worker file beside it.
 */
export const EXTERNAL = [
  "@electric-sql/pglite",
  "@jitl/*",
  "quickjs-emscripten",
  "quickjs-emscripten-core",
  "esbuild",
];

/** Bundled CommonJS code calls require() for Node's built-ins; an ES module has none of its own. */
const REQUIRE_SHIM = 'import { createRequire as __picloudCreateRequire } from "node:module"; const require = __picloudCreateRequire(import.meta.url);';

/**
 * pg's lib/stream.js builds a `Response` when it loads, to tell a Cloudflare Worker from Node: on
 * Node 20 that loads Node's bundled undici, ~50 ms of every start on the main thread (pg is loaded
 * on both backends). The runtime only runs on Node, so the bundle gets pg's Node functions alone.
 */
const pgStreamForNode = {
  name: "pg-stream-for-node",
  setup(b) {
    b.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, () => ({
      contents: `module.exports = {
  getStream: () => new (require("net").Socket)(),
  getSecureStream: (options) => require("tls").connect(options),
};`,
      loader: "js",
    }));
  },
};

/**
 * @fastify/swagger requires `yaml` when it registers, for a YAML rendering of the OpenAPI document
 * that PiCloud never asks for; its module takes ~10-40 ms to evaluate. Its `yaml` loads on first use.
 */
const lazyYamlForSwagger = {
  name: "lazy-yaml-for-swagger",
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, (args) =>
      args.namespace === "file" && /[\\/]@fastify[\\/]swagger[\\/]/.test(args.importer) ? { path: args.resolveDir, namespace: "lazy-yaml" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-yaml" }, (args) => ({
      contents: `let yaml;
const load = () => (yaml ??= require("yaml"));
module.exports = { parse: (...a) => load().parse(...a), stringify: (...a) => load().stringify(...a) };`,
      resolveDir: args.path,
      loader: "js",
    }));
  },
};

/** The minified guest prelude and lazy modules, computed with the sources' own code (runtime/executor/guest-prelude.ts). */
async function builtPrelude() {
  // Inside the repository, so that its imports (esbuild) resolve from node_modules.
  mkdirSync(path.join(root, "out"), { recursive: true });
  const file = path.join(root, "out", `.prelude-${process.pid}.mjs`);
  try {
    await build({
      absWorkingDir: root,
      entryPoints: ["runtime/executor/guest-prelude.ts"],
      outfile: file,
      bundle: true,
      format: "esm",
      platform: "node",
      packages: "external",
      logLevel: "warning",
    });
    const { preludeForSandbox, lazyModulesForSandbox } = await import(pathToFileURL(file).href);
    return { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() };
  } finally {
    rmSync(file, { force: true });
  }
}

export async function buildRuntime() {
  const prelude = await builtPrelude();
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: { picloud: "runtime/cli/bin.ts", worker: "runtime/executor/worker.ts", embedded: "runtime/embedded.ts" },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: EXTERNAL,
    banner: { js: REQUIRE_SHIM },
    // A string literal (JSON text), which esbuild inlines where it is used; an object would become a module.
    define: { __PICLOUD_BUILT_PRELUDE__: JSON.stringify(JSON.stringify(prelude)) },
    outExtension: { ".js": ".js" },
    chunkNames: "chunk-[hash]",
    plugins: [pgStreamForNode, lazyYamlForSwagger],
    sourcemap: "linked",
    // V8 parses every loaded chunk at start (~4 MB of code unminified); names are kept (stack traces,
    // fastify's plugin names), the source map still points at the sources.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  await buildRuntime();
  process.stderr.write(`runtime bundle: out/runtime (${Math.round(performance.now() - started)} ms)\n`);
}
