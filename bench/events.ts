// Event benchmarks: KV-write-to-handler latency, sustained events/s, and idle CPU.
import { readFileSync } from "node:fs";

export interface EventFigures {
  readonly backend: string;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** Burst of HTTP writes until all their events are handled (ingest-bound). */
  readonly endToEndEventsPerSec: number;
  /** A committed backlog, dispatcher only. */
  dispatchEventsPerSec?: number;
}

type Api = (method: string, route: string, body?: unknown) => Promise<unknown>;

const PONG = `export default async function (ctx) {
  await kv.collection("pong").set(ctx.event.key, { sentAt: ctx.event.value.sentAt, handledAt: Date.now() });
}`;

export const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;

async function waitForDone(api: Api, app: string, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { counts } = (await api("GET", `/events?app=${app}&limit=1`)) as { counts: Record<string, number> };
    if ((counts.done ?? 0) >= expected) return;
    if (Date.now() > deadline) throw new Error(`only ${counts.done} of ${expected} events done`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function allValues(api: Api, app: string, collection: string, keys?: Set<string>): Promise<{ sentAt: number; handledAt: number }[]> {
  const values: { sentAt: number; handledAt: number }[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=1000${cursor ? `&cursor=${cursor}` : ""}`;
    const page = (await api("GET", `/apps/${app}/kv/${collection}?${query}`)) as {
      items: { key: string; value: { sentAt: number; handledAt: number } }[];
      cursor: string | null;
    };
    values.push(...page.items.filter((i) => !keys || keys.has(i.key)).map((i) => i.value));
    cursor = page.cursor;
  } while (cursor);
  return values;
}

/** Creates `app` with the pong handler triggered by writes to its "ping" collection. */
export async function preparePong(api: Api, app: string): Promise<void> {
  await api("POST", "/apps", { id: app });
  await api("PUT", `/apps/${app}/scripts/pong`, { source: PONG });
  await api("POST", `/apps/${app}/triggers`, { kind: "kv", script: "pong", collection: "ping" });
}

/**
 * Write-to-handler latency (ms, sorted): one write at a time, from just before the write request to the
 * handler's first line. `app` was made by preparePong; keys start at `from` (to measure again on one app);
 * `afterWrites` runs when the last write was answered (before the results are read back).
 */
export async function measureLatency(
  api: Api,
  app: string,
  samples: number,
  options: { from?: number; afterWrites?: () => void } = {},
): Promise<number[]> {
  const from = options.from ?? 0;
  for (let i = from; i < from + samples; i++) {
    await api("PUT", `/apps/${app}/kv/ping/k${i}`, { value: { sentAt: Date.now() } });
    await new Promise((r) => setTimeout(r, 5));
  }
  options.afterWrites?.();
  await waitForDone(api, app, from + samples, 60_000);
  const mine = new Set(Array.from({ length: samples }, (_, i) => `k${from + i}`));
  return (await allValues(api, app, "pong", mine)).map((v) => v.handledAt - v.sentAt).sort((a, b) => a - b);
}

export async function measureEvents(api: Api, backend: string, options: { latencySamples: number; burst: number }): Promise<EventFigures> {
  for (const app of ["evlat", "evrate"]) await preparePong(api, app);
  const latencies = await measureLatency(api, "evlat", options.latencySamples);

  // Throughput: a burst of writes from 50 concurrent clients, until every event is handled.
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < options.burst) {
        const i = next++;
        await api("PUT", `/apps/evrate/kv/ping/k${i}`, { value: { sentAt: Date.now() } });
      }
    }),
  );
  const writtenS = (performance.now() - started) / 1000;
  await waitForDone(api, "evrate", options.burst, 300_000);
  const elapsedS = (performance.now() - started) / 1000;
  if (process.env.BENCH_VERBOSE)
    console.log(`${backend}: ${options.burst} writes in ${writtenS.toFixed(2)} s, all handled after ${elapsedS.toFixed(2)} s`);
  return {
    backend,
    latencyP50Ms: quantile(latencies, 0.5),
    latencyP99Ms: quantile(latencies, 0.99),
    endToEndEventsPerSec: Math.round(options.burst / elapsedS),
  };
}

/** CPU time of a process (all its threads) in ms, from /proc. */
export function cpuTimeMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 Hz)
  return ticks * 10;
}

export async function idleCpuPercent(pid: number, seconds: number): Promise<number> {
  const before = cpuTimeMs(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return Math.round(((cpuTimeMs(pid) - before) / (seconds * 1000)) * 10_000) / 100;
}

/**
 * Dispatcher throughput alone: a backlog of `count` KV events committed in one transaction, then
 * timed until every one is handled (claim, sandbox run with a KV write, completion, record).
 * BENCH_NOOP_HANDLER=1: a handler that does nothing (the dispatcher's own cost, without the KV write).
 */
export async function dispatchThroughput(
  runtime: import("../runtime/main.js").Runtime,
  count: number,
  /** The events store module to insert with (another checkout's, when its runtime is measured). */
  storeModule = "../runtime/store/events.js",
): Promise<number> {
  const { services } = runtime;
  await services.control.createApp("backlog");
  await services.control.deploy("backlog", "pong", process.env.BENCH_NOOP_HANDLER ? "export default async function () {}" : PONG);
  const trigger = await services.control.addTrigger("backlog", { kind: "kv", script: "pong", collection: "ping" });
  const { EventStore } = (await import(storeModule)) as typeof import("../runtime/store/events.js");
  const now = Date.now();
  const events = Array.from({ length: count }, (_, i) => ({
    app: "backlog",
    triggerId: trigger.id,
    script: "pong",
    kind: "kv" as const,
    payloadJson: JSON.stringify({ type: "kv", op: "insert", collection: "ping", key: `k${i}`, value: { sentAt: now } }),
    chainDepth: 0,
    maxAttempts: 5,
    backoffMs: 1000,
    backoffMaxMs: 300_000,
    runAt: now,
  }));
  // Done when the dispatcher reports the last completion (no polling query competing with it), checked once after.
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const unsubscribe = services.dispatcher.subscribe((change) => {
    if (change.status === "done" && change.event.app === "backlog" && ++done === count) allDone();
  });
  const started = performance.now();
  await runtime.db.transaction((tx) => EventStore.insert(tx, events));
  services.dispatcher.wake();
  await finished;
  const elapsedS = (performance.now() - started) / 1000;
  unsubscribe();
  const counts = await services.events.counts("backlog");
  if (counts.done !== count) throw new Error(`${counts.done} of ${count} events done`);
  return Math.round(count / elapsedS);
}
