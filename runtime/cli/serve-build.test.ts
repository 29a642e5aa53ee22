// What `npm run serve` builds before it starts (scripts/ensure-ui.mjs): only what is stale, every stale
// part at the same time (the first run waits for the longest build, not their sum), and a failure
// reported after the other builds have ended.
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without type declarations
import { ensureBuilt, serverSteps, steps } from "../../scripts/ensure-ui.mjs";

interface Step {
  readonly name: string;
  stale(): boolean | Promise<boolean>;
  build(): Promise<void>;
}
type EnsureBuilt = (steps: Step[], log: (line: string) => void) => Promise<string[]>;
const ensure = ensureBuilt as EnsureBuilt;

/** Steps whose builds each end only once all of them have started (one at a time, they would time out). */
function barrierSteps(names: string[], failing: string[] = []): { steps: Step[]; ended: string[] } {
  let started = 0;
  let release = () => {};
  const allStarted = new Promise<void>((resolve) => (release = resolve));
  const ended: string[] = [];
  const steps = names.map((name) => ({
    name,
    stale: () => true,
    async build() {
      if (++started === names.length) release();
      await Promise.race([
        allStarted,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${name} waited alone: the builds ran one at a time`)), 5_000)),
      ]);
      ended.push(name);
      if (failing.includes(name)) throw new Error(`${name} broke`);
    },
  }));
  return { steps, ended };
}

describe("npm run serve's build step", () => {
  it("builds every stale part at the same time, and nothing that is current", async () => {
    const { steps: stale, ended } = barrierSteps(["the dashboard", "the runtime bundle", "the template"]);
    const current: Step = {
      name: "current",
      stale: async () => false,
      build: () => Promise.reject(new Error("a current part was built")),
    };
    const lines: string[] = [];
    expect(await ensure([...stale, current], (line) => lines.push(line))).toEqual(["the dashboard", "the runtime bundle", "the template"]);
    expect(ended.sort()).toEqual(["the dashboard", "the runtime bundle", "the template"]);
    expect(lines[0]).toBe("Building the dashboard, the runtime bundle, the template (first run, or the sources changed)…");
    expect(lines.slice(1).sort()).toEqual([
      expect.stringMatching(/^ {2}the dashboard: \d+ ms$/),
      expect.stringMatching(/^ {2}the runtime bundle: \d+ ms$/),
      expect.stringMatching(/^ {2}the template: \d+ ms$/),
    ]);
    // All current: nothing built, nothing said.
    const quiet: string[] = [];
    expect(await ensure([current], (line) => quiet.push(line))).toEqual([]);
    expect(quiet).toEqual([]);
  });

  it("a failed build is reported by name once the others have ended", async () => {
    const { steps: some, ended } = barrierSteps(["a", "b", "c"], ["b"]);
    await expect(ensure(some, () => {})).rejects.toThrow("Could not build b: b broke");
    expect(ended.sort()).toEqual(["a", "b", "c"]);
  });

  it("serve's parts: the dashboard, the runtime bundle and the PGlite template (not the desktop main process)", () => {
    expect((steps() as Step[]).map((s) => s.name)).toEqual(["the dashboard", "the runtime bundle", "the PGlite data-directory template"]);
  });

  it("npm run bench builds what a serve process runs on: the runtime bundle and the PGlite template", () => {
    // Without the template, the bench's "RSS peak, fresh data dir" measured initdb (~800 MiB), not the shipped path.
    expect((serverSteps() as Step[]).map((s) => s.name)).toEqual(["the runtime bundle", "the PGlite data-directory template"]);
  });
});
