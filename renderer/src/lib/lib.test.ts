import { describe, expect, it } from "vitest";
import { parseJsonInput } from "./json";
import { markerForError } from "./markers";
import { sampleEvent } from "./samples";
import { matchesFilter, pushBounded, type StreamItem } from "./stream-filter";

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

describe("stream filter", () => {
  const event = (script: string, status: string, kind = "kv"): StreamItem => ({
    type: "event",
    at: 0,
    event: { id: "e", app: "a", script, kind, status, attempt: 1, deadLetterId: null },
  });
  it("filters by script, status and trigger, and keeps the newest items", () => {
    expect(matchesFilter(event("s", "done"), { script: "s", status: "done", trigger: "kv" })).toBe(true);
    expect(matchesFilter(event("s", "dead"), { status: "done" })).toBe(false);
    expect(matchesFilter(event("s", "done", "schedule"), { trigger: "kv" })).toBe(false);
    let items: StreamItem[] = [];
    for (let i = 0; i < 5; i++) items = pushBounded(items, event(`s${i}`, "done"), 3);
    expect(items.map((i) => (i.type === "event" ? i.event.script : ""))).toEqual(["s4", "s3", "s2"]);
  });
});
