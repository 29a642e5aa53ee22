// One warm sandbox instance on the real engine: the lazily parsed ctx, and runs that finish without a
// job-queue drain (the handler's promise already settled) report the same results, logs, CPU time
// and limits as runs that await.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Limits } from "../shared/limits.js";
import type { ScriptContext } from "../shared/wire.js";
import { EngineModule } from "./engine-module.js";
import { lazyModulesForSandbox, preludeForSandbox } from "./guest-prelude.js";
import { type RawOutcome, SandboxInstance } from "./sandbox-instance.js";

const limits: Limits = { ...DEFAULT_LIMITS, cpuMs: 200, wallMs: 2_000 };
const noHost = async () => "null";

let engine: EngineModule;
const instances: SandboxInstance[] = [];

beforeAll(async () => {
  engine = await EngineModule.create(64);
});

afterAll(() => {
  for (const instance of instances) instance.dispose();
});

/** `lazyContext` false: an instance built for one run, as strict mode builds them. */
function load(source: string, lazyContext = true): SandboxInstance {
  const instance = new SandboxInstance(
    engine,
    "s.js",
    source,
    limits,
    { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() },
    lazyContext,
  );
  instances.push(instance);
  return instance;
}

async function run(instance: SandboxInstance, context: ScriptContext): Promise<RawOutcome> {
  return instance.run(JSON.stringify(context), limits, noHost);
}

const result = (outcome: RawOutcome) => (outcome.resultJson === undefined ? undefined : JSON.parse(outcome.resultJson));

const httpContext: ScriptContext = {
  app: "a",
  script: "s",
  request: {
    method: "POST",
    path: "/a/s/x",
    subpath: "/x",
    query: { q: ["1", "2"] },
    headers: { "x-text": 'caf\u00e9 "quoted" \\ \u{1f600}', "content-type": "text/plain" },
    body: 'body with "bodyJson":true inside, a NUL \u0000 and \u00fc',
    url: "/a/s/x?q=1&q=2",
  },
  env: { SECRET: "s3cret" },
};

describe("ctx, parsed on the handler's first look", () => {
  it.each([
    ["a warm instance (parsed lazily)", true],
    ["a strict-mode instance (parsed at once)", false],
  ])("is exactly the context in %s: keys, values, JSON, spread, `in`, prototype", async (_kind, lazyContext) => {
    const instance = load(
      `export default function (ctx) {
      return {
        keys: Object.keys(ctx),
        json: JSON.stringify(ctx),
        spread: { ...ctx },
        headers: ctx.request.headers,
        body: ctx.request.body,
        hasEvent: "event" in ctx,
        hasRequest: "request" in ctx,
        plain: Object.getPrototypeOf(ctx) === Object.prototype && ctx instanceof Object,
        descriptor: Object.getOwnPropertyDescriptor(ctx, "app"),
      };
    }`,
      lazyContext,
    );
    const outcome = await run(instance, httpContext);
    expect(outcome.error).toBeUndefined();
    expect(result(outcome)).toEqual({
      keys: Object.keys(httpContext),
      json: JSON.stringify(httpContext),
      spread: httpContext,
      headers: httpContext.request?.headers,
      body: httpContext.request?.body,
      hasEvent: false,
      hasRequest: true,
      plain: true,
      descriptor: { value: "a", writable: true, enumerable: true, configurable: true },
    });
  });

  it('a triggered run has "event" in ctx', async () => {
    const instance = load(`export default async (ctx) => ({ triggered: "event" in ctx, type: ctx.event.type, keys: Object.keys(ctx) })`);
    const context: ScriptContext = { app: "a", script: "s", event: { type: "kv.put", key: "k" }, attempt: 2, eventId: "e1" };
    expect(result(await run(instance, context))).toEqual({ triggered: true, type: "kv.put", keys: Object.keys(context) });
  });

  it("can be written, deleted from and frozen like a plain object", async () => {
    const instance = load(`export default function (ctx) {
      ctx.extra = 1;
      delete ctx.env;
      Object.defineProperty(ctx, "hidden", { value: 2, enumerable: false });
      Object.freeze(ctx);
      let threw = false;
      try { "use strict"; ctx.more = 3; } catch (e) { threw = true; }
      return { keys: Object.keys(ctx), hidden: ctx.hidden, frozen: Object.isFrozen(ctx), more: ctx.more };
    }`);
    expect(result(await run(instance, httpContext))).toEqual({
      keys: ["app", "script", "request", "extra"],
      hidden: 2,
      frozen: true,
    });
  });

  it("a ctx kept from an earlier run still reads that run's context", async () => {
    const instance = load(`let kept;
      export default function (ctx) {
        const before = kept;
        kept = ctx;
        return { now: ctx.script, before: before === undefined ? null : before.script };
      }`);
    // The first ctx is never read during its own run: it is parsed only when the second run reads it.
    const first = load(`let kept; export default function (ctx) { const k = kept; kept = ctx; return k === undefined ? null : k.script; }`);
    expect(result(await run(first, { app: "a", script: "one" }))).toBeNull();
    expect(result(await run(first, { app: "a", script: "two" }))).toBe("one");
    expect(result(await run(instance, { app: "a", script: "one" }))).toEqual({ now: "one", before: null });
    expect(result(await run(instance, { app: "a", script: "two" }))).toEqual({ now: "two", before: "one" });
  });

  it("a JSON body is still parsed on first access of ctx.request.body", async () => {
    const instance = load(`export default (ctx) => ({ body: ctx.request.body, keys: Object.keys(ctx.request) })`);
    const context: ScriptContext = {
      app: "a",
      script: "s",
      request: { method: "POST", path: "/a/s", subpath: "/", query: {}, headers: {}, body: null, bodyJson: true, rawBody: '{"n":1}' },
    };
    expect(result(await run(instance, context))).toEqual({
      body: { n: 1 },
      keys: ["method", "path", "subpath", "query", "headers", "body"],
    });
  });
});

describe("runs that finish without awaiting", () => {
  it("a synchronous handler has its result, logs and CPU time", async () => {
    const instance = load(`export default function () {
      console.log("sync", 1);
      let x = 0;
      const end = Date.now() + 5;
      while (Date.now() < end) x++;
      return { x: x > 0 };
    }`);
    const outcome = await run(instance, { app: "a", script: "s" });
    expect(result(outcome)).toEqual({ x: true });
    expect(outcome.logs.map((l) => l.message)).toEqual(["sync 1"]);
    expect(outcome.cpuMs).toBeGreaterThanOrEqual(4);
  });

  it("work a handler queued without awaiting runs in its own invocation, before the outcome", async () => {
    const instance = load(`export default async function (ctx) {
      Promise.resolve().then(() => console.log("queued by", ctx.script));
      return "done";
    }`);
    const one = await run(instance, { app: "a", script: "one" });
    expect(result(one)).toBe("done");
    expect(one.logs.map((l) => l.message)).toEqual(["queued by one"]);
    const two = await run(instance, { app: "a", script: "two" });
    expect(two.logs.map((l) => l.message)).toEqual(["queued by two"]);
  });

  it("a synchronous throw and an already rejected promise are script errors with their logs", async () => {
    const sync = load(`export default function () { console.log("before"); throw new TypeError("sync boom"); }`);
    const rejected = load(`export default async function () { console.warn("before"); throw new RangeError("async boom"); }`);
    for (const [instance, name, message] of [
      [sync, "TypeError", "sync boom"],
      [rejected, "RangeError", "async boom"],
    ] as const) {
      const outcome = await run(instance, { app: "a", script: "s" });
      expect(outcome.ok).toBe(false);
      expect(outcome.error?.code).toBe("SCRIPT_ERROR");
      expect(outcome.error?.message).toContain(`${name}: ${message}`);
      expect(outcome.logs.map((l) => l.message)).toEqual(["before"]);
    }
  });

  it("a returned thenable is awaited", async () => {
    const instance = load(`export default function () { return { then(resolve) { resolve({ via: "then" }); } }; }`);
    expect(result(await run(instance, { app: "a", script: "s" }))).toEqual({ via: "then" });
  });

  it("an infinite loop in a synchronous handler is stopped, and the instance serves the next run", async () => {
    const instance = load(`let calls = 0; export default function () { if (++calls === 1) for (;;) {} return calls; }`);
    const spun = await run(instance, { app: "a", script: "s" });
    expect(spun.error?.code).toBe("SCRIPT_TIMEOUT");
    expect(spun.cpuMs).toBeGreaterThanOrEqual(limits.cpuMs - 1);
    if (!spun.discard) expect(result(await run(instance, { app: "a", script: "s" }))).toBe(2);
  });

  it("a result whose toJSON never returns is SCRIPT_TIMEOUT, and the instance is thrown away, warm or built for one run", async () => {
    for (const lazyContext of [true, false]) {
      const instance = load(`export default function () { return { toJSON() { for (;;) {} } } }`, lazyContext);
      const outcome = await run(instance, { app: "a", script: "s" });
      expect(outcome.error?.code).toBe("SCRIPT_TIMEOUT");
      expect(outcome.discard).toBe(true);
    }
  });

  it("a result that cannot be serialised is SCRIPT_BAD_RESPONSE", async () => {
    const instance = load(`export default async function () { const o = {}; o.o = o; return o; }`);
    const outcome = await run(instance, { app: "a", script: "s" });
    expect(outcome.error?.code).toBe("SCRIPT_BAD_RESPONSE");
  });
});

describe("results", () => {
  it("the result's JSON text is what the host would write for the same value", async () => {
    const values: unknown[] = [
      { message: "Hello, world!" },
      { b: 1, 10: "ten", 2: "two", a: [1.5, -0, 1e21, 1e-7, 5e-324, 0.1 + 0.2, 123456789012345680000, -1.7976931348623157e308] },
      'quotes " and \\ backslashes, controls \n\t\u0001\u001f and a lone \ud800 surrogate',
      "caf\u00e9 \u{1f600} \u007f",
      [null, true, false, "", {}, [], { nested: { deeper: ["x"] } }],
      42,
      null,
    ];
    const instance = load(`export default (ctx) => ctx.event.value`);
    for (const value of values) {
      const outcome = await run(instance, { app: "a", script: "s", event: { value } });
      expect(outcome.resultJson).toBe(JSON.stringify(value));
    }
    const nothing = load(`export default async () => { console.log("x"); }`);
    const outcome = await run(nothing, { app: "a", script: "s" });
    expect(outcome.ok).toBe(true);
    expect(outcome.resultJson).toBeUndefined();
    expect(outcome.logs).toHaveLength(1);
    const fn = load(`export default () => () => 1`);
    expect((await run(fn, { app: "a", script: "s" })).resultJson).toBeUndefined();
  });
});

describe("an instance built for one run (strict mode)", () => {
  // The host runs a plain handler itself while no binding is loaded; everything else goes to the
  // guest's run protocol. Either way the outcome is the one a warm instance reports.
  const scripts = [
    "export default async () => ({ message: 'Hello, world!' })",
    "export default (ctx) => ({ path: ctx.request.path, text: 'caf\\u00e9 \\u2028 \\u007f \\ud800', n: ctx.env.SECRET })",
    "export default () => undefined",
    "export default () => ({ then(resolve) { resolve(7) } })",
    "export default async () => { await null; return 1 }",
    "export default () => { throw new TypeError('boom') }",
    "export default async () => { throw { code: 'X', message: 'm' } }",
    "export default () => { const a = {}; a.a = a; return a }",
    "export default () => ({ toJSON() { throw new Error('no') } })",
    "export default (ctx) => { console.log('in', ctx.app); return 3 }",
    "export default async () => new Response('hello')",
    "console.log('top'); export default () => typeof console",
    "export default () => { JSON.stringify = () => 5; return 1 }",
    "export default {}",
  ];
  it("reports what a warm instance reports, on both paths", async () => {
    for (const source of scripts) {
      const fresh = await run(load(source, false), httpContext);
      const warm = await run(load(source, true), httpContext);
      const plain = (o: RawOutcome) => ({ ...o, cpuMs: undefined, logs: o.logs.map((l) => ({ ...l, at: undefined })) });
      expect(plain(fresh), source).toEqual(plain(warm));
    }
  });

  it("a binding loaded during the run sees the run's log limit and start", async () => {
    const before = Date.now();
    const outcome = await run(load("export default () => { console.log('x'.repeat(100)); return 1 }", false), httpContext);
    expect(outcome.logs).toHaveLength(1);
    expect(outcome.logs[0]?.at).toBeGreaterThanOrEqual(0);
    expect(outcome.logs[0]?.at).toBeLessThan(Date.now() - before + 1);
  });
});

describe("engine values are freed exactly once (a leaked one aborts the engine on dispose)", () => {
  // Runs pass values to the guest and back through raw pointers (engine-calls.ts): every path of a
  // run must free each exactly once, or freeing the instance aborts the WASM instead of returning true.
  const source = `let kept = [];
    export default async function (ctx) {
      const what = ctx.request.method;
      if (what === "THROW") throw new TypeError("boom");
      if (what === "REJECT") return Promise.reject(new Error("no"));
      if (what === "LOOP") for (;;) {}
      if (what === "AWAIT") { await null; return { awaited: true }; }
      if (what === "KEEP") { kept.push(ctx); return kept.length; }
      if (what === "ECHO") return { body: ctx.request.body };
      return { message: "Hello, world!" };
    }`;
  const request = (method: string, body?: string): ScriptContext => ({
    app: "a",
    script: "s",
    request: { method, path: "/a/s", subpath: "/", query: {}, headers: {}, url: "/a/s", body: body ?? "" },
  });

  it("after many runs of every shape, with texts that need the kept buffer to grow or a one-off buffer", async () => {
    const instance = new SandboxInstance(engine, "s.js", source, limits, {
      prelude: preludeForSandbox(),
      lazyModules: lazyModulesForSandbox(),
    });
    const texts = ["", "plain", "caf\u00e9 \u{1f600} \u2028", "x".repeat(3_000), "\u00fc".repeat(9_000), "y\u{1f600}".repeat(20_000)];
    // Escaping the largest text back to ASCII in the guest takes tens of ms, more on a loaded machine:
    // a CPU limit that only the LOOP run reaches.
    const generous: Limits = { ...limits, cpuMs: 10_000 };
    for (let i = 0; i < 300; i++) {
      const context = request(["GET", "THROW", "REJECT", "AWAIT", "KEEP", "ECHO"][i % 6] as string, texts[i % texts.length]);
      const outcome = await instance.run(JSON.stringify(context), generous, noHost);
      if (i % 6 === 0) expect(result(outcome)).toEqual({ message: "Hello, world!" });
      if (i % 6 === 1) expect(outcome.error?.message).toContain("TypeError: boom");
      if (i % 6 === 2) expect(outcome.error?.message).toContain("Error: no");
      if (i % 6 === 3) expect(result(outcome)).toEqual({ awaited: true });
      if (i % 6 === 5) expect(result(outcome)).toEqual({ body: texts[i % texts.length] });
    }
    const spun = await run(instance, request("LOOP"));
    expect(spun.error?.code).toBe("SCRIPT_TIMEOUT");
    expect(instance.dispose()).toBe(true);
  });

  it("after a handler that is not async, a thenable, and a run stopped mid-drain", async () => {
    const instance = new SandboxInstance(
      engine,
      "s.js",
      `let n = 0;
      export default function (ctx) {
        n++;
        if (n % 3 === 0) return { then(resolve) { resolve(n); } };
        if (n % 3 === 1) return Promise.resolve().then(() => { if (n === 7) for (;;) {} return n; });
        return n;
      }`,
      limits,
      { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() },
    );
    for (let i = 0; i < 9; i++) await run(instance, request("GET"));
    expect(instance.dispose()).toBe(true);
  });
});

describe("a warm run's plain result, settled by the host while no settling module is loaded", () => {
  it("gives way to the protocol once the script loads console or Response mid-life", async () => {
    const instance = load(`let n = 0;
      export default async function () {
        n++;
        if (n === 2) console.log("second");
        if (n === 3) return new Response("third");
        return { n, text: "caf\\u00e9" };
      }`);
    const first = await run(instance, httpContext);
    expect(first.resultJson).toBe(JSON.stringify({ n: 1, text: "caf\u00e9" }));
    expect(first.logs).toEqual([]);
    const second = await run(instance, httpContext);
    expect(second.resultJson).toBe(JSON.stringify({ n: 2, text: "caf\u00e9" }));
    expect(second.logs.map((l) => l.message)).toEqual(["second"]);
    const third = await run(instance, httpContext);
    expect(third.response?.text).toBe("third");
    const fourth = await run(instance, httpContext);
    expect(fourth.logs).toEqual([]);
    expect(result(fourth)).toEqual({ n: 4, text: "caf\u00e9" });
  });
});
