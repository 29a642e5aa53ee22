// What is stored of each run: aggregates for all, full records for failures, console output,
// triggered runs and a sample of silent successes; the header and the live stream say which.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../shared/log.js";
import type { Db } from "../store/db.js";
import { InvocationStatsStore } from "../store/invocation-stats.js";
import { type InvocationRecord, InvocationStore } from "../store/invocations.js";
import { openDatabase } from "../store/open-db.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";
import { until } from "../testing/until.js";
import { DEFAULT_RECORDER_OPTIONS, InvocationRecorder, keepsFullRecord } from "./invocation-recorder.js";

const base: InvocationRecord = {
  id: "x",
  app: "a",
  script: "s",
  version: 1,
  trigger: "http",
  status: "ok",
  startedAt: "2026-03-01T12:00:30.000Z",
  durationMs: 3,
  logs: [],
  error: null,
  eventId: null,
};

describe("recording policy", () => {
  it("keeps failures, runs with console output and triggered runs whatever the sample rate", () => {
    const never = () => 0.999;
    expect(keepsFullRecord({ ...base, status: "error", error: { code: "SCRIPT_ERROR", message: "x" } }, 0, never)).toBe(true);
    expect(keepsFullRecord({ ...base, logs: [{ level: "log", message: "hi", at: 0 }] }, 0, never)).toBe(true);
    for (const trigger of ["kv", "schedule", "dead_letter", "test"] as const)
      expect(keepsFullRecord({ ...base, trigger }, 0, never)).toBe(true);
    expect(keepsFullRecord(base, 0, () => 0)).toBe(false);
    expect(keepsFullRecord(base, 1, never)).toBe(true);
    expect(keepsFullRecord(base, 0.25, () => 0.2)).toBe(true);
    expect(keepsFullRecord(base, 0.25, () => 0.3)).toBe(false);
  });
});

describe("InvocationRecorder", () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDatabase({ pgliteLocation: "memory://" });
  });
  afterAll(async () => {
    await db?.close();
  });

  it("counts every run in the minute's aggregate and stores only the sampled silent successes", async () => {
    const stores = { invocations: new InvocationStore(db), stats: new InvocationStatsStore(db) };
    let draw = 0;
    // Every fourth draw is under the 0.25 rate: 25 of 100 silent successes are stored.
    const recorder = new InvocationRecorder(stores, DEFAULT_RECORDER_OPTIONS, silentLogger(), () => (draw++ % 4 === 0 ? 0.1 : 0.9));
    const seen: boolean[] = [];
    recorder.subscribe((_record, stored) => seen.push(stored));
    const stored: boolean[] = [];
    for (let i = 0; i < 100; i++)
      stored.push(recorder.record({ ...base, id: `ok-${i}`, durationMs: i < 50 ? 0.5 : 20 }, { sampleRate: 0.25, cpuMs: 0.5 }));
    for (let i = 0; i < 3; i++) {
      stored.push(
        recorder.record(
          { ...base, id: `err-${i}`, status: "error", error: { code: i === 0 ? "SCRIPT_TIMEOUT" : "SCRIPT_ERROR", message: "x" } },
          { sampleRate: 0.25 },
        ),
      );
    }
    await recorder.flush();
    expect(seen).toEqual(stored);
    expect(stored.filter(Boolean)).toHaveLength(28);
    expect((await stores.invocations.list({ app: "a", limit: 500 })).map((r) => r.id).sort()).toEqual(
      [...Array.from({ length: 100 }, (_, i) => `ok-${i}`).filter((_, i) => stored[i]), "err-0", "err-1", "err-2"].sort(),
    );
    const minute = Date.parse("2026-03-01T12:00:00.000Z");
    const [row] = await stores.stats.list({ app: "a", from: minute, to: minute + 60_000 });
    expect(row).toMatchObject({ count: 103, errorCount: 3, errors: { SCRIPT_TIMEOUT: 1, SCRIPT_ERROR: 2 }, cpuMs: 50 });
    expect(row?.durationHist[0]).toBe(50); // <= 1 ms
    expect(row?.durationHist[4]).toBe(50); // (10, 25] ms
  });

  it("builds the request/response details only for runs it stores, and stores them with the record", async () => {
    const stores = { invocations: new InvocationStore(db), stats: new InvocationStatsStore(db) };
    const recorder = new InvocationRecorder(stores, DEFAULT_RECORDER_OPTIONS, silentLogger(), () => 0.5);
    let built = 0;
    const details = () => {
      built++;
      return {
        request: { method: "GET", path: "/d/s", query: { a: "1" }, headers: { accept: "*/*" }, body: null },
        response: { status: 200, headers: { "content-type": "text/plain; charset=utf-8" } },
        result: null,
      };
    };
    const run = { ...base, app: "d", queuedMs: 1.25 };
    // Sampled out: the details are never built (nothing is serialised on the hot path).
    for (let i = 0; i < 50; i++) expect(recorder.record({ ...run, id: `d-skip-${i}` }, { sampleRate: 0.1, details })).toBe(false);
    expect(built).toBe(0);
    expect(recorder.record({ ...run, id: "d-kept" }, { sampleRate: 1, details })).toBe(true);
    expect(recorder.record({ ...run, id: "d-bare", queuedMs: null }, { sampleRate: 1 })).toBe(true);
    const broken = () => {
      throw new Error("boom");
    };
    expect(recorder.record({ ...run, id: "d-broken" }, { sampleRate: 1, details: broken })).toBe(true);
    expect(built).toBe(1);
    await recorder.flush();
    expect(await stores.invocations.get("d-kept")).toMatchObject({
      queuedMs: 1.25,
      request: { method: "GET", path: "/d/s", query: { a: "1" }, headers: { accept: "*/*" }, body: null },
      response: { status: 200 },
      result: null,
    });
    // A record without details (or whose details failed) is still stored, with nulls.
    expect(await stores.invocations.get("d-bare")).toMatchObject({ queuedMs: null, request: null, response: null, result: null });
    expect(await stores.invocations.get("d-broken")).toMatchObject({ queuedMs: 1.25, request: null });
    // The list stays light: no request, response or return value.
    const [listed] = await stores.invocations.list({ app: "d", limit: 1 });
    expect(listed).not.toHaveProperty("request");
    expect(listed).toHaveProperty("queuedMs");
  });

  it("writes a full batch of records at once, the aggregates on the timer, and everything on stop", async () => {
    const stores = { invocations: new InvocationStore(db), stats: new InvocationStatsStore(db) };
    // A long interval: only the batch size and stop() can write here.
    const recorder = new InvocationRecorder(stores, { flushIntervalMs: 60_000, batchSize: 5, maxBuffered: 100 }, silentLogger());
    const failed = { ...base, app: "b", status: "error" as const, error: { code: "SCRIPT_ERROR", message: "x" } };
    for (let i = 0; i < 5; i++) recorder.record({ ...failed, id: `b-${i}` });
    const minute = Date.parse("2026-03-01T12:00:00.000Z");
    const aggregate = async () => (await stores.stats.list({ app: "b", from: minute, to: minute + 60_000 }))[0]?.count;
    await until("the full batch is stored", async () => ((await stores.invocations.get("b-4")) ? true : undefined));
    expect(await aggregate()).toBeUndefined();
    recorder.record({ ...failed, id: "b-5" });
    await recorder.stop();
    expect(await stores.invocations.get("b-5")).toMatchObject({ status: "error" });
    expect(await aggregate()).toBe(6);
  });

  it("writes records and aggregates by itself within the flush interval", async () => {
    const stores = { invocations: new InvocationStore(db), stats: new InvocationStatsStore(db) };
    const recorder = new InvocationRecorder(stores, { flushIntervalMs: 20, batchSize: 250, maxBuffered: 100 }, silentLogger());
    recorder.record({ ...base, app: "c", id: "c-1" });
    const minute = Date.parse("2026-03-01T12:00:00.000Z");
    await until("the record and its aggregate are stored", async () => {
      const [row] = await stores.stats.list({ app: "c", from: minute, to: minute + 60_000 });
      return row?.count === 1 && (await stores.invocations.get("c-1")) ? true : undefined;
    });
    await recorder.stop();
  });
});

describe("recording through ingress", () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
    await t.api("POST", "/apps", { id: "quiet", settings: { recordSampleRate: 0 } });
    await t.api("POST", "/apps", { id: "all", settings: { recordSampleRate: 1 } });
    await t.api("POST", "/apps", { id: "default" });
    const source =
      "export default async function (ctx) { if (ctx.request.query.log) console.log('hi'); if (ctx.request.query.fail) throw new Error('no'); return 'ok' }";
    for (const app of ["quiet", "all", "default"]) expect((await t.deploy(app, "s", source)).statusCode).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  const call = (url: string) => t.runtime.app.inject({ method: "GET", url });
  const lookup = async (id: string) => (await t.api("GET", `/invocations/${id}`)).statusCode;

  it("x-picloud-record says whether the invocation id resolves to a stored record", async () => {
    const silent = await call("/quiet/s");
    expect(silent.headers["x-picloud-record"]).toBe("aggregate");
    expect(await lookup(silent.headers["x-picloud-invocation"] as string)).toBe(404);
    for (const url of ["/quiet/s?log=1", "/quiet/s?fail=1", "/all/s"]) {
      const response = await call(url);
      expect(response.headers["x-picloud-record"], url).toBe("full");
      expect(await lookup(response.headers["x-picloud-invocation"] as string), url).toBe(200);
    }
  });

  it("the default app samples silent successes, and the stats count every run", async () => {
    const headers: string[] = [];
    for (let i = 0; i < 40; i++) headers.push((await call("/default/s")).headers["x-picloud-record"] as string);
    await call("/default/s?fail=1");
    expect(headers.filter((h) => h === "aggregate").length).toBeGreaterThan(20); // 1 % sampled: ~40 of 40
    const { series } = (await t.api("GET", "/stats?app=default&script=s&minutes=5")).json();
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({ app: "default", script: "s", count: 41, errors: 1, errorsByCode: { SCRIPT_ERROR: 1 } });
    expect(series[0].points).toHaveLength(5);
    expect(series[0].p99Ms).toBeGreaterThan(0);
    const byApp = (await t.api("GET", "/stats?minutes=5")).json().series;
    expect(byApp.map((s: { app: string; script: string | null }) => [s.app, s.script])).toEqual([
      ["all", null],
      ["default", null],
      ["quiet", null],
    ]);
  });

  it("a stored HTTP record holds the request (credentials and secrets redacted, body cut) and the response", async () => {
    await t.api("PUT", "/apps/all/secrets/SHOP_SECRET", { value: "sk_live_0123456789" });
    await t.deploy(
      "all",
      "echo",
      "export default async function (ctx) { return { status: 201, headers: { 'x-echo': ctx.env.SHOP_SECRET, 'x-n': '7' }, body: { got: ctx.request.body.n } } }",
    );
    const body = JSON.stringify({ n: 1, note: "sk_live_0123456789", pad: "é".repeat(3000) });
    const response = await t.runtime.app.inject({
      method: "POST",
      url: "/all/echo/items?page=2&access_token=tok123&q=sk_live_0123456789",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer top-secret-bearer",
        cookie: "session=abc",
        "x-picloud-app-key": "app-key-value",
        "x-trace": "trace-1",
      },
      payload: body,
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers["x-picloud-record"]).toBe("full");
    const record = (await t.api("GET", `/invocations/${response.headers["x-picloud-invocation"]}`)).json();
    const text = JSON.stringify(record);
    for (const leaked of ["sk_live_0123456789", "top-secret-bearer", "session=abc", "app-key-value", "tok123"])
      expect(text).not.toContain(leaked);
    expect(record.request).toMatchObject({
      method: "POST",
      path: "/all/echo/items",
      query: { page: "2", access_token: "[redacted]", q: "[secret:SHOP_SECRET]" },
      headers: {
        "content-type": "application/json",
        authorization: "[redacted]",
        cookie: "[redacted]",
        "x-picloud-app-key": "[redacted]",
        "x-trace": "trace-1",
      },
      body: { bytes: Buffer.byteLength(body), truncated: true },
    });
    expect(Buffer.byteLength(record.request.body.text)).toBeLessThanOrEqual(4096);
    expect(record.request.body.text.startsWith('{"n":1,"note":"[secret:SHOP_SECRET]"')).toBe(true);
    expect(record.response).toEqual({
      status: 201,
      headers: { "content-type": "application/json; charset=utf-8", "x-echo": "[secret:SHOP_SECRET]", "x-n": "7" },
    });
    expect(record.result).toBeNull();
    expect(record.queuedMs).toBeGreaterThanOrEqual(0);
    // server-timing reports the same queue time the record holds.
    const timing = /queue;dur=([\d.]+)/.exec(response.headers["server-timing"] as string);
    expect(Number(timing?.[1])).toBeCloseTo(record.queuedMs, 0);
  });

  it("a failed HTTP run records the error answer's status", async () => {
    const response = await call("/quiet/s?fail=1");
    expect(response.statusCode).toBe(500);
    const record = (await t.api("GET", `/invocations/${response.headers["x-picloud-invocation"]}`)).json();
    expect(record.request).toMatchObject({ method: "GET", path: "/quiet/s", query: { fail: "1" }, body: null });
    expect(record.response).toEqual({ status: 500, headers: { "content-type": "application/json; charset=utf-8" } });
  });

  it("a triggered run's record holds its return value, cut to the limit, or says it returned nothing", async () => {
    await t.api("POST", "/apps", { id: "trig" });
    await t.deploy(
      "trig",
      "onkv",
      "export default async function (ctx) { return ctx.event.key === 'big' ? { pad: 'z'.repeat(9000) } : ctx.event.key === 'none' ? undefined : { handled: ctx.event.key } }",
    );
    await t.api("POST", "/apps/trig/triggers", { kind: "kv", script: "onkv", collection: "orders" });
    for (const key of ["o1", "big", "none"]) await t.api("PUT", `/apps/trig/kv/orders/${key}`, { value: 1 });
    await t.runtime.services.dispatcher.drain();
    const { invocations } = (await t.api("GET", "/invocations?app=trig&trigger=kv")).json();
    expect(invocations).toHaveLength(3);
    const results = await Promise.all(invocations.map(async (i: { id: string }) => (await t.api("GET", `/invocations/${i.id}`)).json()));
    const byResult = (start: string) => results.find((r) => r.result.text.startsWith(start));
    expect(byResult('{"handled"')).toMatchObject({
      request: null,
      response: null,
      result: { text: '{"handled":"o1"}', truncated: false, returned: true },
    });
    expect(byResult('{"pad"').result).toMatchObject({ bytes: 9010, truncated: true, returned: true });
    expect(byResult('{"pad"').result.text).toHaveLength(4096);
    expect(results.find((r) => !r.result.returned)?.result).toEqual({ text: "", bytes: 0, truncated: false, returned: false });
    for (const r of results) expect(r.queuedMs).toBeGreaterThanOrEqual(0);
  });

  it("rejects a sample rate outside 0..1", async () => {
    const response = await t.api("PATCH", "/apps/quiet", { settings: { recordSampleRate: 2 } });
    expect(response.json().error.code).toBe("VALIDATION_FAILED");
  });
});
