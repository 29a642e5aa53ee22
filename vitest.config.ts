import { defineConfig } from "vitest/config";
import { TEST_PROJECTS } from "./vitest.projects.js";

// The suite as four projects, from fast to slow (vitest.projects.ts says which file is where):
// `npm test` runs them all once; `npm run test:unit` (seconds) and the other test:* scripts run one.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file starts its own databases and worker threads; two at a time fits two cores.
    maxWorkers: 2,
    pool: "forks",
    projects: Object.entries(TEST_PROJECTS).map(([name, include]) => ({
      extends: true,
      test: { name, include: [...include] },
    })),
  },
});
