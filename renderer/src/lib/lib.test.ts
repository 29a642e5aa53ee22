import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { retryUnlessClientError } from "../api/retry";
import type { EventRecord, InvocationRecord } from "../api/types";
import { activityRows, eventSubject, sources } from "./activity";
import { previewCron } from "./cron";
import { isRecordId } from "./ids";
import { formatAxisValue, formatDateTime, formatTime, formatTimeTicks } from "./format";
import { parseJsonInput } from "./json";
import { limitErrors } from "./limits";
import { markerForError } from "./markers";
import { splitPath, toQueryObject } from "./query-string";
import { sampleEvent } from "./samples";

describe("chart axis labels", () => {
  it("label times in the one format, the date under the first tick and at a new day", () => {
    const at = (h: number, m: number, day = 27) => new Date(2026, 10, day, h, m).getTime();
    expect(formatTimeTicks([at(23, 50), at(23, 55), at(0, 0, 28)], 5 * 60_000)).toEqual([
      "23:50\n2026-11-27",
      "23:55",
      "00:00\n2026-11-28",
    ]);
    expect(formatTimeTicks([at(9, 5)], 30_000)).toEqual(["09:05:00\n2026-11-27"]);
  });

  it("label values compactly: seconds from 1000 ms", () => {
    expect([0, 250, 1000, 2500, 8000].map((v) => formatAxisValue(v, "ms"))).toEqual(["0 ms", "250 ms", "1 s", "2.5 s", "8 s"]);
    expect([0.5, 12, 1500].map((v) => formatAxisValue(v))).toEqual(["0.5", "12", "1500"]);
  });
});

describe("parseJsonInput", () => {
  it("accepts JSON, maps empty input when asked, and locates errors", () => {
    expect(parseJsonInput('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonInput("  ", { emptyAs: null })).toEqual({ ok: true, value: null });
    const bad = parseJsonInput('{\n  "a": 1,\n  oops\n}');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/line 3, column 3/);
    expect(parseJsonInput("").ok).toBe(false);
  });
});

describe("markerForError", () => {
  it("underlines from the error's column to the end of its line", () => {
    const source = "export default async function () {\n  return {\n    a: 1,,\n  }\n}";
    expect(markerForError({ message: "Unexpected ','", details: { line: 3, column: 10 } }, source)).toEqual({
      startLineNumber: 3,
      startColumn: 10,
      endLineNumber: 3,
      endColumn: 11,
      message: "Unexpected ','",
    });
    expect(markerForError({ message: "x", details: {} }, source)).toBeUndefined();
  });
});

describe("sampleEvent", () => {
  it("matches the documented ctx.event shapes", () => {
    expect(sampleEvent("kv-delete")).toMatchObject({ type: "kv", op: "delete", value: null });
    expect(sampleEvent("schedule", new Date("2026-01-01T00:00:00Z"))).toMatchObject({
      type: "schedule",
      scheduledAt: "2026-01-01T00:00:00.000Z",
    });
    expect(sampleEvent("dead-letter")).toMatchObject({
      type: "dead_letter",
      event: { type: "kv" },
      attempts: [expect.objectContaining({ attempt: 1 })],
    });
  });
});

describe("activity rows", () => {
  const event = (id: string, createdAt: string, status: EventRecord["status"] = "done"): EventRecord => ({
    id,
    createdAt,
    status,
    kind: "kv",
    script: "s",
    app: "a",
    payload: { op: "insert", collection: "orders", key: "k1" },
    triggerId: null,
    attempts: 1,
    maxAttempts: 5,
    backoffMs: 1000,
    backoffMaxMs: 300_000,
    chainDepth: 0,
    isDeadLetterHandler: false,
    runAt: createdAt,
    leaseOwner: null,
    errors: [],
    finishedAt: null,
  });
  const invocation = (id: string, startedAt: string, eventId: string | null = null): InvocationRecord => ({
    id,
    startedAt,
    eventId,
    status: "ok",
    trigger: eventId ? "kv" : "http",
    script: "s",
    app: "a",
    version: 1,
    durationMs: 1,
    logs: [],
    error: null,
  });

  it("merges events and direct invocations newest first, one row per event", () => {
    const rows = activityRows(
      [event("e1", "2026-01-01T00:00:01.000Z"), event("e2", "2026-01-01T00:00:03.000Z")],
      [invocation("i1", "2026-01-01T00:00:02.000Z"), invocation("i2", "2026-01-01T00:00:04.000Z", "e2")],
      {},
    );
    expect(rows.map((r) => r.id)).toEqual(["e2", "i1", "e1"]);
  });

  it("a text search lists every matching invocation, events' runs included", () => {
    const rows = activityRows([], [invocation("i2", "2026-01-01T00:00:04.000Z", "e2")], { text: "boom" });
    expect(rows.map((r) => r.id)).toEqual(["i2"]);
  });

  it("runs seen live without a record are rows marked not stored, filtered like stored ones", () => {
    const live = [invocation("u1", "2026-01-01T00:00:05.000Z"), invocation("i1", "2026-01-01T00:00:02.000Z")];
    const rows = activityRows([], [invocation("i1", "2026-01-01T00:00:02.000Z")], {}, live);
    expect(rows.map((r) => [r.id, r.type === "invocation" && r.stored])).toEqual([
      ["u1", false],
      ["i1", true],
    ]);
    expect(activityRows([], [], { status: "error" }, live)).toEqual([]);
    expect(activityRows([], [], { app: "other" }, live)).toEqual([]);
    expect(activityRows([], [], { text: "boom" }, live)).toEqual([]);
  });

  it("a status or trigger only one kind of row has rules out the other source", () => {
    expect(sources({ status: "done" })).toEqual({ events: true, invocations: false });
    expect(sources({ status: "error" })).toEqual({ events: false, invocations: true });
    expect(sources({ trigger: "kv" })).toEqual({ events: true, invocations: false });
    expect(sources({ trigger: "http" })).toEqual({ events: false, invocations: true });
    expect(sources({})).toEqual({ events: true, invocations: true });
  });

  it("says which collection and key a kv event is about", () => {
    expect(eventSubject({ kind: "kv", payload: { op: "update", collection: "orders", key: "o-7" } })).toBe("update orders/o-7");
  });
});

describe("test-run query strings", () => {
  it("moves a query typed into the path into parameters", () => {
    expect(splitPath("/?name=Ada&x=%20y")).toEqual({
      path: "/",
      params: [
        { key: "name", value: "Ada" },
        { key: "x", value: " y" },
      ],
    });
    expect(splitPath("/orders")).toEqual({ path: "/orders", params: [] });
    expect(
      toQueryObject([
        { key: "a", value: "1" },
        { key: " ", value: "x" },
      ]),
    ).toEqual({ a: "1" });
  });
});

describe("cron preview", () => {
  it("lists the next runs and explains a wrong field count", () => {
    const preview = previewCron("*/5 * * * *", "UTC", 5, new Date("2026-01-01T00:01:00Z"));
    expect(preview.ok && preview.runs.map((d) => d.toISOString())).toEqual([
      "2026-01-01T00:05:00.000Z",
      "2026-01-01T00:10:00.000Z",
      "2026-01-01T00:15:00.000Z",
      "2026-01-01T00:20:00.000Z",
      "2026-01-01T00:25:00.000Z",
    ]);
    const bad = previewCron("* * *", "UTC");
    expect(!bad.ok && bad.error).toMatch(/5 fields .* 6 with seconds first/);
    expect(previewCron("* * * * *", "Mars/Base").ok).toBe(false);
  });
});

describe("date format", () => {
  it("is one local format, with milliseconds where asked", () => {
    const d = new Date(2026, 0, 2, 3, 4, 5, 6);
    expect(formatDateTime(d)).toBe("2026-01-02 03:04:05");
    expect(formatDateTime(d, { ms: true })).toBe("2026-01-02 03:04:05.006");
    expect(formatTime(d)).toBe("03:04:05.006");
  });
});

describe("limit fields", () => {
  it("accept empty (default) and whole numbers within the runtime's bounds", () => {
    const values = {
      memoryMiB: "",
      cpuMs: "500",
      wallMs: "1.5",
      stackKiB: "1024",
      responseBytes: "",
      logBytes: "",
      fetchRequests: "",
      fetchResponseBytes: "",
      fetchTimeoutMs: "",
      concurrency: "",
      queue: "0",
    };
    expect(limitErrors(values)).toEqual({ wallMs: "a whole number", stackKiB: "between 32 and 256" });
  });
});

describe("record ids and retries", () => {
  it("isRecordId accepts the runtime's 32-hex-digit ids only", () => {
    expect(isRecordId("01a222d458e2690774eb723c00000002")).toBe(true);
    expect(isRecordId("nonexistent")).toBe(false);
    expect(isRecordId("01A222D458E2690774EB723C00000002")).toBe(false);
    expect(isRecordId("01a222d458e2690774eb723c000000020")).toBe(false);
  });

  it("a query is not retried after a 4xx answer, once after anything else", () => {
    expect(retryUnlessClientError(0, new ApiError(404, "APP_NOT_FOUND", "No such app."))).toBe(false);
    expect(retryUnlessClientError(0, new ApiError(400, "VALIDATION_FAILED", "bad"))).toBe(false);
    expect(retryUnlessClientError(0, new ApiError(503, "OVERLOADED", "busy"))).toBe(true);
    expect(retryUnlessClientError(0, new TypeError("Failed to fetch"))).toBe(true);
    expect(retryUnlessClientError(1, new TypeError("Failed to fetch"))).toBe(false);
  });
});
