// Strict mode from a snapshot (strict-template.ts) on the real engine: each run starts from exactly the
// template's state, whatever the run before changed, and the template survives scripts that fail to
// load, throw, time out, await the host or use a lot of memory.
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Limits } from "../shared/limits.js";
import { EngineModule, engineWasmPath } from "./engine-module.js";
import { type EngineLayout, engineLayout, MemorySnapshot, readEngineLayout } from "./engine-snapshot.js";
import { lazyModulesForSandbox, preludeForSandbox } from "./guest-prelude.js";
import type { RawOutcome } from "./sandbox-instance.js";
import { StrictTemplate } from "./strict-template.js";

const limits: Limits = { ...DEFAULT_LIMITS, cpuMs: 200, wallMs: 2_000 };
const sources = { prelude: preludeForSandbox(), lazyModules: lazyModulesForSandbox() };
const WORKERS = ["run", "binding-api", "modules", "fetch-api"];
const context = JSON.stringify({
  app: "a",
  script: "s",
  env: {},
  request: { method: "GET", path: "/a/s", subpath: "/", query: {}, headers: {}, body: null, url: "/a/s" },
});

let layout: EngineLayout;

beforeAll(() => {
  const found = engineLayout(engineWasmPath());
  if (!found) throw new Error("the shipped engine's layout was not recognised");
  layout = found;
});

async function template(preload: readonly string[] = WORKERS): Promise<StrictTemplate> {
  return StrictTemplate.create(await EngineModule.create(64), layout, limits, sources, preload);
}

async function run(t: StrictTemplate, source: string, host = async () => "null", runLimits = limits): Promise<RawOutcome> {
  return t.prepare("s.js", source, runLimits).run(context, runLimits, host);
}

/** What a Workers-style or plain run answered. */
function answer(outcome: RawOutcome): unknown {
  if (!outcome.ok) throw new Error(`${outcome.error?.code}: ${outcome.error?.message}`);
  if (outcome.response) return JSON.parse(outcome.response.text ?? "null");
  return outcome.resultJson === undefined ? undefined : JSON.parse(outcome.resultJson);
}

// Looks for every change the previous run made, then makes them all again.
const MEDDLER = `
let count = 0;
function look() {
  count++;
  const seen = {
    count,
    arrayProto: typeof [].leak,
    objectProto: typeof ({}).leak,
    global: typeof globalThis.leaked,
    responseProto: typeof Response.prototype.leak,
    responseJson: Response.json === globalThis.myJson,
    jsonParse: typeof JSON.parse.leak,
    promiseThen: Promise.prototype.then.name,
    frozen: Object.isFrozen(Array.prototype),
  };
  Array.prototype.leak = 1;
  Object.defineProperty(Object.prototype, "leak", { value: 1, configurable: true, writable: true });
  globalThis.leaked = 1;
  Response.prototype.leak = 1;
  globalThis.myJson = Response.json = (v) => new Response("patched " + JSON.stringify(v));
  JSON.parse.leak = 1;
  const then = Promise.prototype.then;
  Promise.prototype.then = function patched(a, b) { return then.call(this, a, b); };
  Object.freeze(Array.prototype);
  return seen;
}`;
const PRISTINE = {
  count: 1,
  arrayProto: "undefined",
  objectProto: "undefined",
  global: "undefined",
  responseProto: "undefined",
  responseJson: false,
  jsonParse: "undefined",
  promiseThen: "then",
  frozen: false,
};

describe("a strict run from the template", () => {
  it.each([
    ["the Workers modules preloaded", WORKERS],
    ["nothing preloaded (each run loads them)", []],
  ])("never sees what the run before changed: built-in prototypes, globals, module classes, module state (%s)", async (_, preload) => {
    const t = await template(preload);
    const workers = `${MEDDLER}\nexport default { async fetch() { return new Response(JSON.stringify(look())) } }`;
    const plain = `${MEDDLER}\nexport default function () { return look() }`;
    for (let i = 0; i < 3; i++) {
      expect(answer(await run(t, workers))).toEqual(PRISTINE);
      expect(answer(await run(t, plain))).toEqual(PRISTINE);
    }
  });

  it("gets a Math.random seed of its own", async () => {
    const t = await template();
    const other = await template();
    const source = "export default () => [Math.random(), Math.random()]";
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      for (const value of answer(await run(i % 2 ? t : other, source)) as number[]) seen.add(value);
    }
    expect(seen.size).toBe(40);
  });

  it("restores the module's memory exactly: the static region and the heap in use read as they did after the snapshot", async () => {
    const t = await template();
    const memory = t.engine.memory;
    const before = new MemorySnapshot(memory, layout);
    await run(
      t,
      `${MEDDLER}\nexport default { async fetch() { const a = []; for (let i = 0; i < 1e4; i++) a.push({ i }); return new Response(JSON.stringify(look())) } }`,
    );
    // The next prepare restores before it loads the script: compare right after a restore.
    (t as unknown as { reset(): void }).reset();
    const after = new MemorySnapshot(memory, layout);
    const read = (s: MemorySnapshot) => s as unknown as { staticPart: Uint8Array; heapPart: Uint8Array };
    // The run's own heap above the snapshot is left as it is (free space): compare what the snapshot covers.
    expect(Buffer.compare(read(after).staticPart, read(before).staticPart)).toBe(0);
    expect(Buffer.compare(read(after).heapPart.subarray(0, read(before).heapPart.length), read(before).heapPart)).toBe(0);
  });
});

describe("the template survives", () => {
  it("a script that does not compile, one that throws at load and one whose handler throws", async () => {
    const t = await template();
    expect(() => t.prepare("s.js", "export default {", limits)).toThrow();
    let thrown: unknown;
    try {
      t.prepare("s.js", "throw new RangeError('at load')", limits);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: "RangeError", message: "at load" });
    const failed = await run(t, "export default { fetch() { throw new TypeError('in fetch') } }");
    expect(failed.ok).toBe(false);
    expect(failed.error?.message).toContain("in fetch");
    expect(answer(await run(t, "export default () => 'fine'"))).toBe("fine");
  });

  it("a run stopped by its CPU limit, and one that awaits the host", async () => {
    const t = await template();
    const stopped = await run(t, "export default () => { for (;;) {} }", undefined, { ...limits, cpuMs: 20 });
    expect(stopped.error?.code).toBe("SCRIPT_TIMEOUT");
    const host = () => new Promise<string>((resolve) => setTimeout(() => resolve('"from host"'), 5));
    const awaited = await run(t, "export default async () => await kv.collection('c').get('k')", host);
    expect(answer(awaited)).toBe("from host");
    expect(answer(await run(t, MEDDLER.concat("\nexport default () => look()")))).toEqual(PRISTINE);
  });

  it("a run that grows the module's memory", async () => {
    const t = await template();
    const grown = await run(t, "export default () => 'x'.repeat(24 * 1024 * 1024).length");
    expect(answer(grown)).toBe(24 * 1024 * 1024);
    expect(t.engine.memoryBytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(answer(await run(t, MEDDLER.concat("\nexport default () => look()")))).toEqual(PRISTINE);
  });
});

describe("the modules in the snapshot", () => {
  it("grow with what runs loaded, and the runs after answer the same", async () => {
    const t = await template([]);
    expect([...t.modules]).toEqual([]);
    const source = `${MEDDLER}\nexport default { async fetch(request) { return Response.json({ url: new URL(request.url).pathname, seen: look() }) } }`;
    const first = answer(await run(t, source));
    t.extend(["run", "modules", "fetch-api", "url"]);
    expect([...t.modules]).toEqual(expect.arrayContaining(["run", "binding-api", "modules", "fetch-api", "url"]));
    expect(answer(await run(t, source))).toEqual(first);
    expect(answer(await run(t, source))).toEqual(first);
  });
});

describe("the engine layout", () => {
  it("is read from the WASM: static data below a 5 MiB stack, the heap above it; anything else is refused", () => {
    expect(layout.heapBase - layout.staticEnd).toBe(5 * 1024 * 1024);
    expect(layout.staticEnd).toBeGreaterThan(0);
    expect(readEngineLayout(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toBeUndefined();
  });
});
