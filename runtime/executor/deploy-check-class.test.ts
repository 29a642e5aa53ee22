// Review of 782ecbb: a class is `typeof "function"`, so the check accepts `export default class {}`,
// which no call can run (a class constructor cannot be called without new): the failure the check
// exists to move to deploy time still happens at every call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

let t: TestRuntime;

beforeAll(async () => {
  t = await startTestRuntime();
  await t.api("POST", "/apps", { id: "classy" });
});

afterAll(async () => {
  await t?.close();
});

describe("a class as the default export", () => {
  it("is either refused at deploy or served at call time", async () => {
    const deployed = await t.deploy("classy", "k", "export default class { }");
    const call = await t.runtime.app.inject({ method: "GET", url: "/classy/k" });
    expect(
      deployed.statusCode === 400 || call.statusCode === 200,
      `deploy ${deployed.statusCode}; call ${call.statusCode} ${call.body}`,
    ).toBe(true);
  });
});
