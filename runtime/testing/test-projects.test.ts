// Every test file is in exactly one vitest project (vitest.projects.ts): a file in none would never run
// under `npm test`, a file in two would run twice. Matched with the glob library vitest itself uses.
import { fileURLToPath } from "node:url";
import { globSync } from "tinyglobby";
import { describe, expect, it } from "vitest";
import { TEST_FILES, TEST_PROJECTS } from "../../vitest.projects.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const files = (patterns: readonly string[]) => globSync([...patterns], { cwd: ROOT, ignore: ["**/node_modules/**"] });

describe("the vitest projects", () => {
  it("hold every test file exactly once", () => {
    const projectsOf = new Map<string, string[]>(files(TEST_FILES).map((file) => [file, []]));
    for (const [project, patterns] of Object.entries(TEST_PROJECTS)) {
      for (const file of files(patterns)) projectsOf.set(file, [...(projectsOf.get(file) ?? []), project]);
    }
    const misplaced = [...projectsOf]
      .filter(([, projects]) => projects.length !== 1)
      .map(([file, projects]) => `${file}: ${projects.join(", ") || "no project"}`);
    expect(misplaced).toEqual([]);
    expect(projectsOf.size).toBeGreaterThan(90);
  });

  it("name only files that exist (a renamed test file is not silently dropped)", () => {
    const named = Object.values(TEST_PROJECTS).flatMap((patterns) => patterns.filter((pattern) => !pattern.includes("*")));
    const missing = named.filter((file) => files([file]).length === 0);
    expect(missing).toEqual([]);
  });
});
