// GET /metrics: Prometheus text that parses, with invocation, event, executor and memory figures.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../shared/config.js";
import { startTestRuntime, TEST_TOKEN, type TestRuntime } from "../testing/runtime.js";

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The Prometheus text exposition format: HELP/TYPE comments, then `name{label="v",...} value` lines. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (line.startsWith("#")) {
      expect(line).toMatch(/^# (HELP|TYPE) \w+ /);
      continue;
    }
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (-?[\d.e+-]+|NaN|[+-]Inf)$/.exec(line);
    expect(match, line).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match?.[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match?.[1] as string, labels, value: Number(match?.[3]) });
  }
  return { samples, types };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe("GET /metrics", () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
    await t.api("POST", "/apps", { id: "shop" });
    await t.deploy(
      "shop",
      "cart",
      "export default async function (ctx) { if (ctx.request.query.fail) throw new Error('no'); return 'ok' }",
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it("needs the admin token", async () => {
    expect((await t.runtime.app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
    const wrong = await t.runtime.app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer nope-nope-nope-nope" } });
    expect(wrong.json().error.code).toBe("AUTH_INVALID");
  });

  it("reports invocations, errors by code, latency histograms, events, the executor and memory", async () => {
    for (let i = 0; i < 3; i++) await t.runtime.app.inject({ method: "GET", url: "/shop/cart" });
    await t.runtime.app.inject({ method: "GET", url: "/shop/cart?fail=1" });
    const response = await t.runtime.app.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: "Bearer pc_test_token_0123456789abcdef" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parse(response.body);
    const cart = { app: "shop", script: "cart" };
    expect(find(samples, "picloud_invocations_total", { ...cart, trigger: "http", status: "ok" })[0]?.value).toBe(3);
    expect(find(samples, "picloud_invocations_total", { ...cart, status: "error" })[0]?.value).toBe(1);
    expect(find(samples, "picloud_invocation_errors_total", { ...cart, code: "SCRIPT_ERROR" })[0]?.value).toBe(1);
    expect(types.get("picloud_invocation_duration_seconds")).toBe("histogram");
    expect(find(samples, "picloud_invocation_duration_seconds_count", cart)[0]?.value).toBe(4);
    expect(find(samples, "picloud_invocation_duration_seconds_bucket", { ...cart, le: "+Inf" })[0]?.value).toBe(4);
    expect(types.get("picloud_invocation_queue_seconds")).toBe("histogram");
    expect(find(samples, "picloud_invocation_queue_seconds_count", { app: "shop" })[0]?.value).toBe(4);
    expect(find(samples, "picloud_invocation_queue_seconds_bucket", { app: "shop", le: "0.0001" })).toHaveLength(1);
    expect(types.get("picloud_invocations_refused_total")).toBe("counter");
    expect(find(samples, "picloud_invocations_refused_total")).toHaveLength(0);
    const buckets = find(samples, "picloud_invocation_duration_seconds_bucket", cart).map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b)); // cumulative
    for (const status of ["pending", "running", "dead", "failed"]) expect(find(samples, "picloud_events", { status })).toHaveLength(1);
    expect(find(samples, "picloud_events_retrying")[0]?.value).toBe(0);
    expect(find(samples, "picloud_dead_letters")[0]?.value).toBe(0);
    expect(find(samples, "picloud_executor_workers")[0]?.value).toBe(2);
    expect(find(samples, "picloud_executor_in_flight")).toHaveLength(1);
    expect(find(samples, "picloud_executor_burst_workers")[0]?.value).toBe(0);
    expect(find(samples, "picloud_executor_queued")[0]?.value).toBe(0);
    // One warm instance of shop/cart serves every run on a worker: built once, then held idle.
    expect(find(samples, "picloud_sandbox_instances_created")[0]?.value).toBeGreaterThanOrEqual(1);
    expect(find(samples, "picloud_sandbox_instances_idle")[0]?.value).toBeGreaterThanOrEqual(1);
    // The inline gauges are always exported (0 while inline runs are off, the default).
    for (const name of ["picloud_executor_inline_runs", "picloud_executor_inline_abandoned", "picloud_executor_inline_versions"]) {
      expect(find(samples, name)[0]?.value).toBeGreaterThanOrEqual(0);
    }
    const memory = (kind: string) => find(samples, "picloud_memory_bytes", { kind })[0]?.value ?? 0;
    expect(memory("rss")).toBeGreaterThan(10 * 1024 * 1024);
    // The breakdown: the main thread's V8 heap, PGlite's WASM memory (its module declares 128 MiB),
    // and the workers' heaps and QuickJS memories (each module starts at 16 MiB).
    expect(memory("heap_resident")).toBeGreaterThan(1024 * 1024);
    expect(memory("new_space")).toBeGreaterThan(0);
    expect(memory("pglite_wasm")).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(memory("worker_heaps")).toBeGreaterThan(2 * 1024 * 1024);
    expect(memory("worker_engines")).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(find(samples, "process_cpu_seconds_total")[0]?.value).toBeGreaterThan(0);
  });

  it("counts KV read cache misses and hits (on by default on the embedded database)", async () => {
    await t.deploy("shop", "stock", "export default async function () { return { n: await kv.collection('stock').get('apples') } }");
    const scrape = async () => {
      const response = await t.runtime.app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      const { samples, types } = parse(response.body);
      for (const name of ["picloud_kv_cache_hits_total", "picloud_kv_cache_misses_total", "picloud_kv_cache_evictions_total"]) {
        expect(types.get(name)).toBe("counter");
      }
      const value = (name: string) => find(samples, name)[0]?.value;
      return {
        hits: value("picloud_kv_cache_hits_total"),
        misses: value("picloud_kv_cache_misses_total"),
        bytes: value("picloud_kv_cache_bytes"),
      };
    };
    const before = await scrape();
    // The first get finds nothing cached and reads the database, which caches "absent"; the second is answered from the cache.
    expect((await t.runtime.app.inject({ method: "GET", url: "/shop/stock" })).json()).toEqual({ n: null });
    const afterMiss = await scrape();
    expect(afterMiss.misses).toBe((before.misses ?? Number.NaN) + 1);
    expect(afterMiss.hits).toBe(before.hits);
    expect(afterMiss.bytes).toBeGreaterThan(0);
    expect((await t.runtime.app.inject({ method: "GET", url: "/shop/stock" })).json()).toEqual({ n: null });
    const afterHit = await scrape();
    expect(afterHit.hits).toBe((before.hits ?? Number.NaN) + 1);
    expect(afterHit.misses).toBe(afterMiss.misses);
  });
});

describe("OVERLOADED refusals and queue time in /metrics", () => {
  let t: TestRuntime;
  // A server queue of 3 and a 300 ms queue timeout; each app runs one invocation at a time.
  beforeAll(async () => {
    t = await startTestRuntime({ flags: { executorQueueLimit: 3, executorQueueTimeoutMs: 300 } });
    const burn = "export default async function () { const end = Date.now() + 700; while (Date.now() < end) {} return 'done' }";
    await t.api("POST", "/apps", { id: "busy", settings: { limits: { concurrency: 1, queue: 1 } } });
    await t.api("POST", "/apps", { id: "wide", settings: { limits: { concurrency: 1, queue: 10 } } });
    for (const app of ["busy", "wide"]) expect((await t.deploy(app, "burn", burn)).statusCode).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  const scrape = async () =>
    parse(
      (await t.runtime.app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer pc_test_token_0123456789abcdef" } }))
        .body,
    ).samples;
  const burst = async (app: string, n: number) => {
    const responses = await Promise.all(Array.from({ length: n }, () => t.runtime.app.inject({ method: "GET", url: `/${app}/burn` })));
    return responses.map((r) => (r.statusCode === 503 ? r.json().error.code : r.statusCode)).sort();
  };

  it("counts refusals per app and reason: the app's queue full, the server's queue full, the queue timeout", async () => {
    // busy: one runs, one waits (and times out while the first burns 700 ms), the third finds the app's queue full.
    expect(await burst("busy", 3)).toEqual([200, "OVERLOADED", "OVERLOADED"]);
    // wide: one runs, three fill the server's queue (and time out), the fifth finds the server's queue full.
    expect(await burst("wide", 5)).toEqual([200, "OVERLOADED", "OVERLOADED", "OVERLOADED", "OVERLOADED"]);
    const samples = await scrape();
    const refused = (app: string, reason: string) => find(samples, "picloud_invocations_refused_total", { app, reason })[0]?.value;
    expect(refused("busy", "app_queue_full")).toBe(1);
    expect(refused("busy", "queue_timeout")).toBe(1);
    expect(refused("busy", "queue_full")).toBeUndefined();
    expect(refused("wide", "queue_full")).toBe(1);
    expect(refused("wide", "queue_timeout")).toBe(3);
    // Refused runs never ran: only the two that did are in the queue-time histogram.
    for (const app of ["busy", "wide"]) expect(find(samples, "picloud_invocation_queue_seconds_count", { app })[0]?.value).toBe(1);
    // A second scrape reports the same totals (the counter is copied, not added, on each scrape).
    expect(find(await scrape(), "picloud_invocations_refused_total", { app: "wide", reason: "queue_timeout" })[0]?.value).toBe(3);
  });
});

describe("metricsPublic", () => {
  it("is read from PICLOUD_METRICS_PUBLIC and rejects values that are not booleans", () => {
    expect(loadConfig({}, { PICLOUD_METRICS_PUBLIC: "1" }).metricsPublic).toBe(true);
    expect(loadConfig({}, {}).metricsPublic).toBe(false);
    expect(() => loadConfig({}, { PICLOUD_METRICS_PUBLIC: "maybe" })).toThrow(/metricsPublic/);
  });

  it("opens /metrics without a token", async () => {
    const t = await startTestRuntime({ flags: { metricsPublic: true } });
    try {
      const response = await t.runtime.app.inject({ method: "GET", url: "/metrics" });
      expect(response.statusCode).toBe(200);
      expect(parse(response.body).samples.length).toBeGreaterThan(5);
    } finally {
      await t.close();
    }
  });
});

describe("inline runs switched on (executorInline)", () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime({ flags: { executorInline: true } });
    await t.api("POST", "/apps", { id: "quick" });
    await t.deploy("quick", "hello", "export default async function (ctx) { return { hello: ctx.request.query.who ?? 'world' } }");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("a quick script comes to run inline through ingress, with the same answers, and the gauges count it", async () => {
    const inlineRuns = async () =>
      find(
        parse(
          (
            await t.runtime.app.inject({
              method: "GET",
              url: "/metrics",
              headers: { authorization: "Bearer pc_test_token_0123456789abcdef" },
            })
          ).body,
        ).samples,
        "picloud_executor_inline_runs",
      )[0]?.value ?? 0;
    for (let i = 0; i < 200 && (await inlineRuns()) === 0; i++) {
      const response = await t.runtime.app.inject({ method: "GET", url: `/quick/hello?who=n${i}` });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ hello: `n${i}` });
      await new Promise((r) => setTimeout(r, 2));
    }
    const before = await inlineRuns();
    expect(before).toBeGreaterThan(0);
    const response = await t.runtime.app.inject({ method: "GET", url: "/quick/hello?who=inline" });
    expect(response.json()).toEqual({ hello: "inline" });
    expect(response.headers["x-picloud-invocation"]).toBeTruthy();
    expect(await inlineRuns()).toBe(before + 1);
  });
});

describe("strict-mode templates in /metrics", () => {
  let t: TestRuntime;
  let url: string;
  beforeAll(async () => {
    t = await startTestRuntime();
    url = await t.runtime.listen();
    await t.api("POST", "/apps", { id: "fresh", settings: { strict: true } });
    await t.deploy("fresh", "hello", "export default async function () { return 'hi' }");
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Over a real socket, as Prometheus scrapes it. */
  const scrape = async () => {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(response.status).toBe(200);
    return parse(await response.text());
  };
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) => find(samples, name, labels)[0]?.value;

  it("counts templates held, their bytes, builds and drops, summed over the workers", async () => {
    const before = await scrape();
    expect(before.types.get("picloud_strict_templates")).toBe("gauge");
    expect(value(before.samples, "picloud_strict_templates")).toBe(0);
    expect(value(before.samples, "picloud_strict_templates_built")).toBe(0);
    expect(value(before.samples, "picloud_strict_template_bytes", { kind: "engine" })).toBe(0);
    // A worker builds the app's template from its 4th strict run within 60 s; runs spread over the two
    // workers, so up to 7 runs before one worker has seen 4.
    let samples = before.samples;
    for (let i = 0; i < 20 && value(samples, "picloud_strict_templates") === 0; i++) {
      expect(await (await fetch(`${url}/fresh/hello`)).text()).toBe("hi");
      samples = (await scrape()).samples;
    }
    const held = value(samples, "picloud_strict_templates") ?? 0;
    expect(held).toBeGreaterThanOrEqual(1);
    expect(value(samples, "picloud_strict_templates_built")).toBe(held);
    // Each template is an engine module of its own (16 MiB at least) plus a snapshot of ~250 KB.
    expect(value(samples, "picloud_strict_template_bytes", { kind: "engine" })).toBeGreaterThanOrEqual(held * 16 * 1024 * 1024);
    const snapshot = value(samples, "picloud_strict_template_bytes", { kind: "snapshot" }) ?? 0;
    expect(snapshot).toBeGreaterThan(held * 50_000);
    expect(snapshot).toBeLessThan(held * 4 * 1024 * 1024);
    // Part of the workers' engine memory (all of it once the app's ordinary module goes: a strict-only app).
    expect(value(samples, "picloud_memory_bytes", { kind: "worker_engines" })).toBeGreaterThanOrEqual(
      value(samples, "picloud_strict_template_bytes", { kind: "engine" }) ?? Number.POSITIVE_INFINITY,
    );

    // Changing the app drops its templates in every worker.
    expect((await t.api("PATCH", "/apps/fresh", { settings: { strict: true, recordSampleRate: 1 } })).statusCode).toBe(200);
    let after = samples;
    for (let i = 0; i < 50 && value(after, "picloud_strict_templates") !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = (await scrape()).samples;
    }
    expect(value(after, "picloud_strict_templates")).toBe(0);
    expect(value(after, "picloud_strict_template_bytes", { kind: "engine" })).toBe(0);
    expect(value(after, "picloud_strict_templates_dropped", { reason: "app_changed" })).toBe(held);
    expect(value(after, "picloud_strict_templates_dropped", { reason: "grown" })).toBe(0);
    expect(value(after, "picloud_strict_templates_built")).toBe(held);
  });
});
