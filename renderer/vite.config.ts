// The renderer build, shared by `picloud serve` (served at /) and the Electron app.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export const rendererRoot = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: rendererRoot,
  base: "./",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../out/renderer", import.meta.url)),
    emptyOutDir: true,
    minify: true,
    chunkSizeWarningLimit: 8_000,
    // The timing report is noise for someone running `npm run serve` (it lands in the start-up output).
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  worker: { format: "es" },
});
