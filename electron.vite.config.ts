// Builds the desktop app: main, preload (CommonJS, as sandboxed preloads require) and the renderer,
// from our top-level folders. Main does not bundle the runtime: it loads `picloud serve`'s bundle
// (out/runtime/embedded.js and its executor worker), which building main builds too.
import { defineConfig } from "electron-vite";
import renderer from "./renderer/vite.config";
// @ts-expect-error -- a plain ES module without type declarations
import { buildRuntime } from "./scripts/build-runtime.mjs";

export default defineConfig({
  main: {
    plugins: [{ name: "picloud-runtime-bundle", apply: "build", closeBundle: () => buildRuntime() }],
    build: {
      outDir: "out/main",
      rollupOptions: {
        input: { index: "main/index.ts" },
      },
    },
  },
  preload: {
    build: {
      outDir: "out/preload",
      rollupOptions: {
        input: { index: "main/preload.ts" },
        output: { format: "cjs", entryFileNames: "[name].cjs" },
      },
    },
  },
  renderer: {
    ...renderer,
    build: { ...renderer.build, rolldownOptions: { ...renderer.build?.rolldownOptions, input: "renderer/index.html" } },
  },
});
