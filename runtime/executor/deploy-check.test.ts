// A deploy runs the module's top level once in a sandbox on an executor worker, under the app's limits
// (executor/validate.ts), and refuses a module whose default export is no handler, or whose top level
// throws or exceeds a limit, with a coded 4xx. Host calls at top level never reach the app's data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

let t: TestRuntime;

const call = (path: string) => t.runtime.app.inject({ method: "GET", url: path });

beforeAll(async () => {
  t = await startTestRuntime({ flags: { limits: { cpuMs: 200, wallMs: 1_000 } } });
  await t.api("POST", "/apps", { id: "checked" });
  await t.api("POST", "/apps", { id: "small", settings: { limits: { memoryMiB: 32 } } });
});

afterAll(async () => {
  await t?.close();
});

describe("a deploy runs the module's top level and checks its default export", () => {
  it.each([
    ["export default 5", "a number"],
    ["export default 'hello'", "a string"],
    ["export default null", "null"],
    ["export default undefined", "undefined"],
    ["export default {}", "an object without a fetch() or scheduled() method"],
    ["export default { fetch: 1 }", "an object without a fetch() or scheduled() method"],
    ["export default class { fetch() {} }", "a class, which is not a handler (a class constructor cannot be called without new)"],
  ])("refuses %s with SCRIPT_BAD_DEFAULT_EXPORT, and nothing is deployed", async (source, described) => {
    const response = await t.deploy("checked", "bad", source);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error).toMatchObject({ code: "SCRIPT_BAD_DEFAULT_EXPORT" });
    expect(response.json().error.message).toContain(`The default export is ${described}:`);
    expect((await t.api("GET", "/apps/checked/scripts/bad")).statusCode).toBe(404);
  });

  it.each([
    "export default async function (ctx) { return 1 }",
    "export default function () { return 1 }",
    "export default (ctx) => 1",
    "export default { async fetch() { return new Response('x') } }",
    "export default { async scheduled() {} }",
    "const handler = { fetch: () => new Response('x') };\nexport default handler;",
  ])("accepts a handler: %s", async (source) => {
    const response = await t.deploy("checked", "good", source);
    expect(response.statusCode, response.body).toBe(201);
  });

  it("refuses top-level code that throws with SCRIPT_INIT_FAILED, its line and the underlying code", async () => {
    const response = await t.deploy("checked", "thrower", "const x = 1;\nthrow new Error('at load');\nexport default async function () {}");
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error).toMatchObject({ code: "SCRIPT_INIT_FAILED", reason: "SCRIPT_ERROR", line: 2 });
    expect(response.json().error.message).toContain("Error: at load");
  });

  it("an infinite loop at top level is stopped at the app's CPU limit: SCRIPT_INIT_FAILED (SCRIPT_TIMEOUT), and the server serves on", async () => {
    await t.deploy("checked", "fine", "export default async function () { return { fine: true } }");
    const response = await t.deploy("checked", "spin", "while (true) {}\nexport default async function () {}");
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error).toMatchObject({ code: "SCRIPT_INIT_FAILED", reason: "SCRIPT_TIMEOUT" });
    // A getter on the export is the script's code too, under the same budget.
    const getter = await t.deploy("checked", "spin-getter", "export default { get fetch() { for (;;) {} } }");
    expect(getter.json().error).toMatchObject({ code: "SCRIPT_INIT_FAILED", reason: "SCRIPT_TIMEOUT" });
    expect((await call("/checked/fine")).json()).toEqual({ fine: true });
  });

  it("top-level code past the app's memory limit: SCRIPT_INIT_FAILED (SCRIPT_MEMORY)", async () => {
    const source = "const hog = [];\nfor (;;) hog.push(new Array(1 << 20).fill(hog.length));\nexport default async function () {}";
    const response = await t.deploy("small", "hog", source);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error).toMatchObject({ code: "SCRIPT_INIT_FAILED", reason: "SCRIPT_MEMORY" });
  });

  it("host calls at top level are not served: an awaited one is refused at deploy, an unawaited one writes nothing", async () => {
    const awaited = await t.deploy(
      "checked",
      "kv-top",
      "const v = await kv.collection('c').get('k');\nexport default async function () { return v }",
    );
    expect(awaited.statusCode, awaited.body).toBe(400);
    expect(awaited.json().error).toMatchObject({ code: "SCRIPT_INIT_FAILED", reason: "SCRIPT_ERROR" });
    // Top-level await is not supported at all (a module's load must finish at once): refused at deploy, not at every call.
    expect(awaited.json().error.message).toContain("awaiting at top level is not supported");
    const fetched = await t.deploy("checked", "fetch-top", "const r = await fetch('https://example.com/');\nexport default () => r.status");
    expect(fetched.json().error).toMatchObject({ code: "SCRIPT_INIT_FAILED", reason: "SCRIPT_ERROR" });
    expect(fetched.json().error.message).toContain("awaiting at top level is not supported");

    const unawaited = await t.deploy(
      "checked",
      "kv-fire",
      "kv.collection('c').set('top', 1).catch(() => {});\nexport default async function () { return await kv.collection('c').get('top') }",
    );
    expect(unawaited.statusCode, unawaited.body).toBe(201);
    // Neither the deploy's check nor the first run's module load wrote it.
    expect((await call("/checked/kv-fire")).json()).toBeNull();
    expect((await t.api("GET", "/apps/checked/kv/c/top")).statusCode).toBe(404);
  });
});
