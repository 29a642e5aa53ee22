// The sandbox through the real runtime: QuickJS in worker threads, limits, isolation, fault recovery.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

let t: TestRuntime;

const call = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  t.runtime.app.inject({
    method: (init.method ?? "GET") as "GET",
    url: path,
    headers: init.headers,
    ...(init.body !== undefined && { payload: init.body as string }),
  });

async function deployOk(app: string, name: string, source: string): Promise<void> {
  const response = await t.deploy(app, name, source);
  expect(response.statusCode, response.body).toBe(201);
}

beforeAll(async () => {
  t = await startTestRuntime({ flags: { limits: { cpuMs: 200, wallMs: 1_000 } } });
  for (const app of ["alpha", "beta", "hog"]) await t.api("POST", "/apps", { id: app });
  await t.api("PATCH", "/apps/hog", { settings: { limits: { memoryMiB: 32 } } });
  await t.api("POST", "/apps", { id: "strictapp", settings: { strict: true } });
});

afterAll(async () => {
  await t?.close();
});

describe("limits", () => {
  it("an infinite loop ends with SCRIPT_TIMEOUT and the next invocation works", async () => {
    await deployOk("alpha", "spin", "export default async function () { while (true) {} }");
    await deployOk("alpha", "ok", "export default async function () { return { fine: true } }");
    const spun = await call("/alpha/spin");
    expect(spun.statusCode, spun.body).toBe(504);
    expect(spun.json().error.code).toBe("SCRIPT_TIMEOUT");
    expect((await call("/alpha/ok")).json()).toEqual({ fine: true });
    expect((await call("/alpha/spin")).json().error.code).toBe("SCRIPT_TIMEOUT");
  });

  it("a loop after an awaited SDK call is also stopped", async () => {
    await deployOk("alpha", "spin-later", "export default async function () { await kv.collection('c').get('k'); for (;;) {} }");
    const response = await call("/alpha/spin-later");
    expect(response.json().error.code).toBe("SCRIPT_TIMEOUT");
  });

  it("the guest cannot catch the CPU interrupt", async () => {
    await deployOk("alpha", "catcher", "export default async function () { try { while (true) {} } catch (e) { return 'caught' } }");
    expect((await call("/alpha/catcher")).json().error.code).toBe("SCRIPT_TIMEOUT");
  });

  it("a promise that never settles ends with SCRIPT_WALL_TIMEOUT", async () => {
    await deployOk("alpha", "hang", "export default async function () { await new Promise(() => {}); }");
    const response = await call("/alpha/hang");
    expect(response.statusCode).toBe(504);
    expect(response.json().error.code).toBe("SCRIPT_WALL_TIMEOUT");
  });

  it("deep recursion ends with SCRIPT_STACK", async () => {
    await deployOk("alpha", "recurse", "function r(n) { return r(n + 1) + 1 }\nexport default async function () { return r(0) }");
    const response = await call("/alpha/recurse");
    expect(response.statusCode).toBe(500);
    expect(response.json().error).toMatchObject({ code: "SCRIPT_STACK", line: 1 });
  });

  it("a memory hog in one app ends with SCRIPT_MEMORY and never fails another app's invocations", async () => {
    await deployOk("hog", "eat", "export default async function () { const a = []; for (;;) a.push(new Array(10000).fill(a.length)); }");
    await deployOk("beta", "steady", "export default async function () { const a = new Array(100000).fill(1); return a.length }");
    const results = await Promise.all([
      call("/hog/eat"),
      call("/beta/steady"),
      call("/hog/eat"),
      call("/beta/steady"),
      call("/beta/steady"),
    ]);
    expect(results[0]?.json().error.code).toBe("SCRIPT_MEMORY");
    expect(results[2]?.json().error.code).toBe("SCRIPT_MEMORY");
    for (const i of [1, 3, 4]) expect(results[i]?.json()).toBe(100000);
    await deployOk("hog", "small", "export default async function () { return 'recovered' }");
    expect((await call("/hog/small")).body).toBe("recovered");
  });

  it("a script burning its CPU budget does not stall other requests (worker threads)", async () => {
    await t.api("PATCH", "/apps/beta", { settings: { limits: { cpuMs: 1500, wallMs: 3000 } } });
    await deployOk("beta", "burn", "export default async function () { while (true) {} }");
    const burning = call("/beta/burn");
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    expect((await call("/alpha/ok")).json()).toEqual({ fine: true });
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await burning).json().error.code).toBe("SCRIPT_TIMEOUT");
  });

  it("console output is captured and capped by the log limit", async () => {
    await t.api("PATCH", "/apps/alpha", { settings: { limits: { cpuMs: 200, wallMs: 1000, logBytes: 1024 } } });
    await deployOk(
      "alpha",
      "chatty",
      "export default async function () { for (let i = 0; i < 1000; i++) console.log('line', i, { i }); return 'done' }",
    );
    const response = await call("/alpha/chatty");
    expect(response.body).toBe("done");
    const id = response.headers["x-picloud-invocation"] as string;
    const record = (await t.api("GET", `/invocations/${id}`)).json();
    expect(record.logs[0]).toMatchObject({ level: "log", message: 'line 0 {"i":0}' });
    expect(record.logs.length).toBeLessThan(40);
    expect(record.logs.at(-1).message).toContain("log limit reached");
  });

  it("an oversized response is refused with SCRIPT_RESPONSE_TOO_LARGE", async () => {
    await t.api("PATCH", "/apps/alpha", { settings: { limits: { cpuMs: 200, wallMs: 1000, responseBytes: 2048 } } });
    await deployOk("alpha", "huge", "export default async function () { return 'x'.repeat(5000) }");
    const response = await call("/alpha/huge");
    expect(response.statusCode).toBe(500);
    expect(response.json().error.code).toBe("SCRIPT_RESPONSE_TOO_LARGE");
    await t.api("PATCH", "/apps/alpha", { settings: {} });
  });
});

describe("isolation", () => {
  it("warm instances of one script keep globals; other scripts and apps never see them", async () => {
    const counter = "globalThis.n = (globalThis.n ?? 0) + 1;\nexport default async function () { return globalThis.n }";
    await deployOk(
      "alpha",
      "counter",
      `let hits = 0;\nexport default async function () { hits++; globalThis.shared = 'alpha'; return hits }`,
    );
    await deployOk("alpha", "peek", "export default async function () { return typeof globalThis.shared }");
    await deployOk("beta", "peek", "export default async function () { return typeof globalThis.shared }");
    await deployOk("strictapp", "counter", counter);
    const first = (await call("/alpha/counter")).json();
    const later = [];
    for (let i = 0; i < 6; i++) later.push((await call("/alpha/counter")).json());
    expect(Math.max(...later)).toBeGreaterThan(first);
    expect((await call("/alpha/peek")).body).toBe("undefined");
    expect((await call("/beta/peek")).body).toBe("undefined");
    // Strict mode: a fresh instance every time, so module state never survives.
    for (let i = 0; i < 3; i++) expect((await call("/strictapp/counter")).json()).toBe(1);
  });

  it("a new version never shares an instance with the old one", async () => {
    await deployOk("alpha", "ver", "globalThis.mark = 'v1';\nexport default async function () { return globalThis.mark }");
    expect((await call("/alpha/ver")).body).toBe("v1");
    await deployOk("alpha", "ver", "export default async function () { return globalThis.mark ?? 'clean' }");
    expect((await call("/alpha/ver")).body).toBe("clean");
  });

  it("scripts have no host capabilities: no require, process, fs or host eval (fetch and timers are SDK bindings)", async () => {
    await deployOk(
      "alpha",
      "probe",
      `export default async function () {
        return {
          require: typeof require, process: typeof process, fetch: typeof fetch, setTimeout: typeof setTimeout,
          Deno: typeof Deno, Bun: typeof Bun, std: typeof std, os: typeof os, hostCall: typeof hostCall, hostSync: typeof hostSync,
          evalWorks: eval('1 + 1'), fnWorks: new Function('return 2')(),
        };
      }`,
    );
    expect((await call("/alpha/probe")).json()).toEqual({
      require: "undefined",
      process: "undefined",
      fetch: "function",
      setTimeout: "function",
      hostSync: "undefined",
      Deno: "undefined",
      Bun: "undefined",
      std: "undefined",
      os: "undefined",
      hostCall: "undefined",
      evalWorks: 2,
      fnWorks: 2,
    });
  });

  it("overwriting SDK globals only affects the script that did it", async () => {
    await deployOk(
      "alpha",
      "vandal",
      "globalThis.kv = null; globalThis.console = null;\nexport default async function () { return 'vandalised' }",
    );
    await deployOk(
      "alpha",
      "victim",
      "export default async function () { await kv.collection('v').set('k', 1); console.log('ok'); return await kv.collection('v').get('k') }",
    );
    expect((await call("/alpha/vandal")).body).toBe("vandalised");
    expect((await call("/alpha/victim")).json()).toBe(1);
  });
});

describe("script errors", () => {
  it("a thrown error reaches the caller as data with the script line, never a host stack", async () => {
    await deployOk(
      "alpha",
      "thrower",
      "function inner() {\n  throw new TypeError('bad input');\n}\nexport default async function () { inner() }",
    );
    const response = await call("/alpha/thrower");
    expect(response.statusCode).toBe(500);
    const error = response.json().error;
    expect(error).toMatchObject({ code: "SCRIPT_ERROR", message: "TypeError: bad input", line: 2 });
    expect(response.body).not.toMatch(/node_modules|\/work\/|worker|prelude/);
    const record = (await t.api("GET", `/invocations/${error.invocation}`)).json();
    expect(record.error.stack).toContain("thrower.js:2");
    expect(record.error.stack).not.toContain("prelude");
  });

  it("throwing non-errors and errors at top level are reported", async () => {
    await deployOk("alpha", "throw-string", "export default async function () { throw 'plain string' }");
    expect((await call("/alpha/throw-string")).json().error).toMatchObject({ code: "SCRIPT_ERROR", message: "Error: plain string" });
    // Top-level code runs at deploy (executor/validate.ts): a throw there is refused, not deployed (deploy-check.test.ts).
    const refused = await t.deploy("alpha", "top-throw", "throw new Error('at load');\nexport default async function () {}");
    expect(refused.json().error).toMatchObject({ code: "SCRIPT_INIT_FAILED", reason: "SCRIPT_ERROR", line: 1 });
  });

  it("a default export that is not a function is refused at deploy (SCRIPT_BAD_DEFAULT_EXPORT), not at the first call", async () => {
    expect((await t.deploy("alpha", "not-fn", "export default 42;")).json().error.code).toBe("SCRIPT_BAD_DEFAULT_EXPORT");
  });

  it("TypeScript keeps its line numbers in errors", async () => {
    const source =
      "interface Order { id: number }\nconst check = (o: Order): number => {\n  if (o.id < 0) throw new RangeError('negative id');\n  return o.id;\n};\nexport default async function (ctx: any): Promise<number> {\n  return check({ id: -1 });\n}\n";
    expect((await t.deploy("alpha", "typed", source, "typescript")).statusCode).toBe(201);
    expect((await call("/alpha/typed")).json().error).toMatchObject({ code: "SCRIPT_ERROR", message: "RangeError: negative id", line: 3 });
  });

  it("many concurrent invocations with awaited SDK calls all complete", async () => {
    // Wall time includes waiting for the database, which serialises 400 SDK calls: give it room on a loaded machine.
    await t.api("POST", "/apps", { id: "busyapp", settings: { limits: { wallMs: 60_000 } } });
    await deployOk(
      "busyapp",
      "busy",
      "export default async function (ctx) { const c = kv.collection('busy'); const k = ctx.request.query.i; await c.set(k, Number(k)); return await c.get(k) }",
    );
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => call(`/busyapp/busy?i=${i}`)));
    const wrong = results.flatMap((r, i) => (r.statusCode === 200 && r.json() === i ? [] : [`${i}: ${r.statusCode} ${r.body}`]));
    expect(wrong).toEqual([]);
  });
});
