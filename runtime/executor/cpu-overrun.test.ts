// An operation inside the engine (a typed array's sort) never reaches an interrupt check, so a stretch
// of guest code can end far past its CPU budget without being stopped: the limit holds all the same,
// at deploy (the module's top level) and at a run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

let t: TestRuntime;

beforeAll(async () => {
  t = await startTestRuntime({ flags: { limits: { cpuMs: 200, wallMs: 10_000 } } });
  await t.api("POST", "/apps", { id: "nat", settings: { limits: { memoryMiB: 1024 } } });
});

afterAll(async () => {
  await t?.close();
});

/** Sorts 30 million numbers in one engine call: seconds of CPU with no interrupt check inside. */
const SORT = "const a = new Float64Array(3e7); for (let i = 0; i < 3e7; i += 1e6) a[i] = -i; a.sort();";

describe("an uninterruptible engine operation past the CPU limit", () => {
  it("at top level, is refused at deploy with SCRIPT_INIT_FAILED (SCRIPT_TIMEOUT)", async () => {
    const deployed = await t.deploy("nat", "sort", `${SORT}\nexport default () => 1`);
    expect(deployed.statusCode, deployed.body).toBe(400);
    expect(JSON.parse(deployed.body).error).toMatchObject({ code: "SCRIPT_INIT_FAILED", reason: "SCRIPT_TIMEOUT" });
  }, 60_000);

  it("in a run, ends SCRIPT_TIMEOUT, and the app's next run is served", async () => {
    expect((await t.deploy("nat", "run-sort", `export default () => { ${SORT} return a[0] }`)).statusCode).toBe(201);
    const res = await t.runtime.app.inject({ method: "GET", url: "/nat/run-sort" });
    expect(res.statusCode, res.body).toBe(504);
    expect(JSON.parse(res.body).error.code).toBe("SCRIPT_TIMEOUT");
    expect((await t.deploy("nat", "quick", "export default () => ({ ok: true })")).statusCode).toBe(201);
    const quick = await t.runtime.app.inject({ method: "GET", url: "/nat/quick" });
    expect(quick.statusCode).toBe(200);
  }, 60_000);
});
