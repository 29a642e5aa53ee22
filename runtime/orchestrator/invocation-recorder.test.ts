// What is stored of each run: aggregates for all, full records for failures, console output,
// triggered runs and a sample of silent successes; the header and the live stream say which.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../shared/log.js";
import type { Db } from "../store/db.js";
import { InvocationStatsStore } from "../store/invocation-stats.js";
import { type InvocationRecord, InvocationStore } from "../store/invocations.js";
import { openDatabase } from "../store/open-db.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";
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

  it("rejects a sample rate outside 0..1", async () => {
    const response = await t.api("PATCH", "/apps/quiet", { settings: { recordSampleRate: 2 } });
    expect(response.json().error.code).toBe("VALIDATION_FAILED");
  });
});
