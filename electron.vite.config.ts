// Builds the desktop app: main (with the runtime and its executor worker), preload (CommonJS, as
// sandboxed preloads require) and the renderer, from our top-level folders.
import { defineConfig } from "electron-vite";
import renderer from "./renderer/vite.config";

export default defineConfig({
  main: {
    build: {
      outDir: "out/main",
      rollupOptions: {
        input: { index: "main/index.ts", worker: "runtime/executor/worker.ts" },
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
