import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["runtime/**/*.test.ts", "main/**/*.test.ts", "renderer/**/*.test.ts", "e2e/**/*.spec.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file starts its own databases and worker threads; two at a time fits two cores.
    maxWorkers: 2,
    pool: "forks",
  },
});
