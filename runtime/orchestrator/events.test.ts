// Triggers, retries, dead letters and schedules, end to end through the real runtime, with an
// injected clock so backoff and schedules are tested in milliseconds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../testing/databases.js";
import { FakeClock, startTestRuntime, type TestRuntime } from "../testing/runtime.js";

describe.each(BACKENDS)("events on %s", (backend) => {
  let t: TestRuntime;
  const clock = new FakeClock();

  const api = (method: string, path: string, body?: unknown) => t.apiOk(method, path, body);
  const drain = () => t.runtime.services.dispatcher.drain();
  const kvSet = (app: string, collection: string, key: string, value: unknown) =>
    api("PUT", `/apps/${app}/kv/${collection}/${encodeURIComponent(key)}`, { value });
  const kvGet = (app: string, collection: string, key: string) => t.kvGet(app, collection, key);

  /** A fresh app with the given scripts deployed. */
  const app = (scripts: Record<string, string>) => t.appWith("ev", scripts);

  beforeAll(async () => {
    t = await startTestRuntime({ backend, clock, random: () => 0, flags: { eventMaxChainDepth: 3 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("KV insert, update and delete deliver the documented ctx.event, with attempt and a stable event id", async () => {
    const id = await app({
      record:
        "const seen = kv.collection('seen'); const n = ((await seen.get('n')) ?? 0) + 1; await seen.set('n', n); await seen.set('e' + n, { event: ctx.event, attempt: ctx.attempt, eventId: ctx.eventId, dl: ctx.isDeadLetterHandler, hasRequest: 'request' in ctx });",
    });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "record", collection: "orders" });
    await kvSet(id, "orders", "o1", { total: 5 });
    await drain();
    await kvSet(id, "orders", "o1", { total: 7 });
    await drain();
    await api("DELETE", `/apps/${id}/kv/orders/o1`);
    await drain();
    const e1 = await kvGet(id, "seen", "e1");
    expect(e1).toMatchObject({
      event: { type: "kv", op: "insert", collection: "orders", key: "o1", value: { total: 5 } },
      attempt: 1,
      dl: false,
      hasRequest: false,
    });
    expect(e1.eventId).toMatch(/^[0-9a-f]{32}$/);
    expect((await kvGet(id, "seen", "e2")).event).toEqual({
      type: "kv",
      op: "update",
      collection: "orders",
      key: "o1",
      value: { total: 7 },
    });
    expect((await kvGet(id, "seen", "e3")).event).toEqual({ type: "kv", op: "delete", collection: "orders", key: "o1", value: null });
    const events = (await api("GET", `/events?app=${id}`)).events;
    expect(events).toHaveLength(3);
    expect(events.every((e: { status: string }) => e.status === "done")).toBe(true);
    const invocations = (await api("GET", `/invocations?app=${id}&trigger=kv`)).invocations;
    expect(invocations.map((i: { eventId: string }) => i.eventId).sort()).toEqual(events.map((e: { id: string }) => e.id).sort());
  });

  it("KV triggers filter by ops and key prefix", async () => {
    const id = await app({ count: "const c = kv.collection('count'); await c.set(ctx.event.op + ':' + ctx.event.key, true);" });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "count", collection: "users", ops: ["insert"], prefix: "vip:" });
    await kvSet(id, "users", "vip:1", 1);
    await kvSet(id, "users", "vip:1", 2);
    await kvSet(id, "users", "plain:1", 1);
    await kvSet(id, "other", "vip:2", 1);
    await drain();
    expect((await api("GET", `/apps/${id}/kv/count`)).items.map((i: { key: string }) => i.key)).toEqual(["insert:vip:1"]);
  });

  it("retries with exponential backoff, then dead-letters with every attempt's error", async () => {
    const id = await app({ flaky: "throw new Error('attempt ' + ctx.attempt + ' failed');" });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "flaky", collection: "jobs", maxAttempts: 4, backoffMs: 100 });
    const start = clock.now();
    await kvSet(id, "jobs", "j1", 1);
    await drain();
    const runAts: number[] = [];
    for (let attempt = 1; attempt < 4; attempt++) {
      const [event] = (await api("GET", `/events?app=${id}`)).events;
      expect(event).toMatchObject({ status: "pending", attempts: attempt });
      runAts.push(Date.parse(event.runAt) - clock.now());
      // Not yet due: nothing happens.
      clock.advance(runAts.at(-1)! - 1);
      await drain();
      expect((await api("GET", `/events?app=${id}`)).events[0].attempts).toBe(attempt);
      clock.advance(1);
      await drain();
    }
    // With jitter fixed at 0, delays are half of 100, 200, 400 ms: they double each time.
    expect(runAts).toEqual([50, 100, 200]);
    const [event] = (await api("GET", `/events?app=${id}`)).events;
    expect(event).toMatchObject({ status: "dead", attempts: 4 });
    const { deadLetters, total } = await api("GET", `/deadletters?app=${id}`);
    expect(total).toBe(1);
    expect(deadLetters[0]).toMatchObject({
      eventId: event.id,
      script: "flaky",
      version: 1,
      event: { type: "kv", op: "insert", key: "j1", value: 1 },
      handlerStatus: null,
    });
    expect(deadLetters[0].attempts.map((a: { error: { message: string } }) => a.error.message)).toEqual([
      "Error: attempt 1 failed",
      "Error: attempt 2 failed",
      "Error: attempt 3 failed",
      "Error: attempt 4 failed",
    ]);
    expect(Date.parse(deadLetters[0].attempts[3].at) - start).toBe(350);
    expect(deadLetters[0].attempts[0].invocation).toMatch(/^[0-9a-f]{32}$/);
  });

  it("a NonRetriableError dead-letters at once", async () => {
    const id = await app({ strictly: "throw new NonRetriableError('bad data, do not retry');" });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "strictly", collection: "in", maxAttempts: 5 });
    await kvSet(id, "in", "k", 1);
    await drain();
    const [event] = (await api("GET", `/events?app=${id}`)).events;
    expect(event).toMatchObject({ status: "dead", attempts: 1 });
    expect((await api("GET", `/deadletters?app=${id}`)).deadLetters[0].attempts[0].error.message).toBe(
      "NonRetriableError: bad data, do not retry",
    );
  });

  it("the dead-letter handler runs with the dead letter; its own failure is recorded and never dead-letters", async () => {
    const id = await app({
      failing: "throw new Error('always');",
      handler:
        "await kv.collection('dl').set('got', { type: ctx.event.type, script: ctx.event.script, original: ctx.event.event, attempts: ctx.event.attempts.length, dl: ctx.isDeadLetterHandler }); if (ctx.event.event.key === 'boom') throw new Error('handler broke');",
    });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "failing", collection: "c", maxAttempts: 1 });
    await api("POST", `/apps/${id}/triggers`, { kind: "dead_letter", script: "handler", maxAttempts: 2, backoffMs: 10 });
    await kvSet(id, "c", "k1", { v: 1 });
    await drain();
    expect(await kvGet(id, "dl", "got")).toEqual({
      type: "dead_letter",
      script: "failing",
      original: { type: "kv", op: "insert", collection: "c", key: "k1", value: { v: 1 } },
      attempts: 1,
      dl: true,
    });
    expect((await api("GET", `/deadletters?app=${id}`)).deadLetters[0].handlerStatus).toBe("ok");

    await kvSet(id, "c", "boom", 1);
    await drain();
    clock.advance(10);
    await drain();
    const letters = (await api("GET", `/deadletters?app=${id}`)).deadLetters;
    expect(letters).toHaveLength(2);
    expect(letters.find((l: { event: { key: string } }) => l.event.key === "boom").handlerStatus).toBe("failed");
    const handlerEvents = (await api("GET", `/events?app=${id}&script=handler`)).events;
    expect(handlerEvents.map((e: { status: string }) => e.status).sort()).toEqual(["done", "failed"]);
    expect(handlerEvents.find((e: { status: string }) => e.status === "failed").attempts).toBe(2);
  });

  it("replay redrives dead letters against the current script version", async () => {
    const id = await app({
      picky: "if (ctx.event.value.ok !== true) throw new Error('not ok yet'); await kv.collection('done').set(ctx.event.key, 'handled');",
    });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "picky", collection: "q", maxAttempts: 1 });
    await kvSet(id, "q", "a", { ok: false });
    await kvSet(id, "q", "b", { ok: false });
    await drain();
    const letters = (await api("GET", `/deadletters?app=${id}`)).deadLetters;
    expect(letters).toHaveLength(2);
    await api("PUT", `/apps/${id}/scripts/picky`, {
      source: "export default async function (ctx) { await kv.collection('done').set(ctx.event.key, 'handled by v2'); }",
    });
    const absent = "0".repeat(32);
    const replay = await api("POST", "/deadletters/replay", { ids: [...letters.map((l: { id: string }) => l.id), absent] });
    expect(replay.replayed).toHaveLength(2);
    expect(replay.missing).toEqual([absent]);
    await drain();
    expect(await kvGet(id, "done", "a")).toBe("handled by v2");
    expect(await kvGet(id, "done", "b")).toBe("handled by v2");
    expect((await api("GET", `/deadletters?app=${id}`)).total).toBe(0);
    const replayed = await api("GET", `/events/${replay.replayed[0].event}`);
    expect(replayed).toMatchObject({ status: "done", attempts: 1 });
  });

  it("dead letters can be deleted one or many at a time", async () => {
    const id = await app({ no: "throw new Error('no');" });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "no", collection: "x", maxAttempts: 1 });
    for (const key of ["1", "2", "3"]) await kvSet(id, "x", key, 0);
    await drain();
    const ids = (await api("GET", `/deadletters?app=${id}`)).deadLetters.map((l: { id: string }) => l.id);
    expect(await api("DELETE", `/deadletters/${ids[0]}`)).toBeUndefined();
    expect(await api("POST", "/deadletters/delete", { ids: ids.slice(1) })).toEqual({
      deleted: expect.arrayContaining(ids.slice(1)),
      missing: [],
    });
    expect((await api("GET", `/deadletters?app=${id}`)).total).toBe(0);
    expect((await t.api("GET", `/deadletters/${ids[0]}`)).json().error.code).toBe("DEAD_LETTER_NOT_FOUND");
  });

  it("a handler writing to its own collection is stopped by the chain-depth limit", async () => {
    const id = await app({ loop: "const c = kv.collection('loop'); await c.set('k', (ctx.event.value ?? 0) + 1);" });
    await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "loop", collection: "loop", maxAttempts: 1 });
    await kvSet(id, "loop", "k", 0);
    await drain();
    // Events of depth 0 (from the API write) to 3 are delivered; the write by the depth-3 run is
    // refused (and rolled back), so the value stops at 3 and that event dead-letters.
    expect(await kvGet(id, "loop", "k")).toBe(3);
    const events = (await api("GET", `/events?app=${id}`)).events;
    expect(events).toHaveLength(4);
    const [letter] = (await api("GET", `/deadletters?app=${id}`)).deadLetters;
    expect(letter.attempts[0].error.message).toContain("EVENT_CHAIN_TOO_DEEP");
  });

  it("schedules fire once per tick with the documented event, and catch up at most once", async () => {
    const id = await app({ tick: "const c = kv.collection('ticks'); await c.set(ctx.event.scheduledAt, ctx.event);" });
    clock.time = Date.parse("2026-03-01T12:00:30.000Z");
    await api("POST", `/apps/${id}/triggers`, { kind: "schedule", script: "tick", cron: "* * * * *", timezone: "Europe/Berlin" });
    const scheduler = t.runtime.services.scheduler;
    await scheduler.reload();
    expect(await scheduler.tick()).toBe(0);
    clock.time = Date.parse("2026-03-01T12:01:00.000Z");
    expect(await scheduler.tick()).toBe(1);
    expect(await scheduler.tick()).toBe(0);
    await drain();
    // Five minutes without a tick (a stall): only the latest missed run fires.
    clock.time = Date.parse("2026-03-01T12:06:10.000Z");
    expect(await scheduler.tick()).toBe(1);
    await drain();
    const ticks = (await api("GET", `/apps/${id}/kv/ticks`)).items;
    expect(ticks.map((i: { key: string }) => i.key)).toEqual(["2026-03-01T12:01:00.000Z", "2026-03-01T12:06:00.000Z"]);
    expect(ticks[0].value).toEqual({
      type: "schedule",
      schedule: "* * * * *",
      timezone: "Europe/Berlin",
      scheduledAt: "2026-03-01T12:01:00.000Z",
    });
  });

  it("trigger definitions are validated", async () => {
    const id = await app({ s: "return 1;" });
    const bad = async (body: unknown) => (await t.api("POST", `/apps/${id}/triggers`, body)).json().error.code;
    expect(await bad({ kind: "schedule", script: "s", cron: "not a cron" })).toBe("TRIGGER_INVALID");
    expect(await bad({ kind: "schedule", script: "s", cron: "* * * * *", timezone: "Mars/Olympus" })).toBe("TRIGGER_INVALID");
    expect(await bad({ kind: "kv", script: "s", collection: "bad name" })).toBe("TRIGGER_INVALID");
    expect(await bad({ kind: "kv", script: "s", collection: "c", ops: ["upsert"] })).toBe("TRIGGER_INVALID");
    expect(await bad({ kind: "kv", script: "ghost", collection: "c" })).toBe("SCRIPT_NOT_FOUND");
    expect(await bad({ kind: "kv", script: "s", collection: "c", maxAttempts: 0 })).toBe("VALIDATION_FAILED");
    expect(await bad({ kind: "teleport", script: "s" })).toBe("VALIDATION_FAILED");
    await api("POST", `/apps/${id}/triggers`, { kind: "dead_letter", script: "s" });
    expect(await bad({ kind: "dead_letter", script: "s" })).toBe("TRIGGER_EXISTS");
    const [trigger] = (await api("GET", `/apps/${id}/triggers`)).triggers;
    expect(await api("DELETE", `/triggers/${trigger.id}`)).toBeUndefined();
    expect((await t.api("DELETE", `/triggers/${trigger.id}`)).json().error.code).toBe("TRIGGER_NOT_FOUND");
  });

  it("deleting a trigger stops new events at once", async () => {
    const id = await app({ s: "await kv.collection('hits').set(ctx.event.key, 1);" });
    const trigger = await api("POST", `/apps/${id}/triggers`, { kind: "kv", script: "s", collection: "c" });
    await kvSet(id, "c", "before", 1);
    await api("DELETE", `/triggers/${trigger.id}`);
    await kvSet(id, "c", "after", 1);
    await drain();
    expect((await api("GET", `/apps/${id}/kv/hits`)).items.map((i: { key: string }) => i.key)).toEqual(["before"]);
  });
});

describe("schedules with two runtimes on one Postgres", () => {
  it("each tick fires exactly once", async () => {
    const clock = new FakeClock(Date.parse("2026-03-01T08:00:30.000Z"));
    // Cache off: the first takes the database's KV lock shared, so the second can join.
    const first = await startTestRuntime({ backend: "postgres", clock, flags: { kvCacheMiB: 0 } });
    const databaseUrl = first.runtime.services.config.databaseUrl as string;
    const second = await startTestRuntime({ databaseUrl, clock });
    try {
      await first.api("POST", "/apps", { id: "cron" });
      await first.deploy(
        "cron",
        "beat",
        "export default async function (ctx) { await kv.collection('beats').set(ctx.event.scheduledAt, 1); }",
      );
      expect(
        (await first.api("POST", "/apps/cron/triggers", { kind: "schedule", script: "beat", cron: "*/10 * * * * *" })).statusCode,
      ).toBe(201);
      await Promise.all([first.runtime.services.scheduler.reload(), second.runtime.services.scheduler.reload()]);
      for (let tick = 0; tick < 5; tick++) {
        clock.advance(10_000);
        const fired = await Promise.all([first.runtime.services.scheduler.tick(), second.runtime.services.scheduler.tick()]);
        expect(fired[0] + fired[1]).toBe(1);
      }
      await Promise.all([first.runtime.services.dispatcher.drain(), second.runtime.services.dispatcher.drain()]);
      const beats = (await first.api("GET", "/apps/cron/kv/beats")).json().items.map((i: { key: string }) => i.key);
      expect(beats).toEqual([
        "2026-03-01T08:00:40.000Z",
        "2026-03-01T08:00:50.000Z",
        "2026-03-01T08:01:00.000Z",
        "2026-03-01T08:01:10.000Z",
        "2026-03-01T08:01:20.000Z",
      ]);
      const events = (await first.api("GET", "/events?app=cron")).json().events;
      expect(events).toHaveLength(5);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
