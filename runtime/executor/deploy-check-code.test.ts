// Review of 782ecbb: validateScript passes on any outcome code the registry marks as a system fault.
// A guest error carrying DATABASE_UNAVAILABLE (propagated at run time, guest-errors.ts PROPAGATED_CODES) is
// such a code: a top level that throws it makes the deploy answer 503 "database unreachable".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

let t: TestRuntime;

beforeAll(async () => {
  t = await startTestRuntime();
  await t.api("POST", "/apps", { id: "coded" });
});

afterAll(async () => {
  await t?.close();
});

describe("a top level that throws an error with a system code", () => {
  it.each(["DATABASE_UNAVAILABLE"])("%s: refused as the script's fault (4xx)", async (code) => {
    const deployed = await t.deploy("coded", "x", `const e = new Error("mine"); e.code = "${code}"; throw e;\nexport default () => 1`);
    expect(deployed.statusCode, deployed.body).toBe(400);
  });
});
