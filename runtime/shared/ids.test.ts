// Record ids: 32 hex digits whatever the clock gives (the database's clock has fractional offsets).
import { describe, expect, it } from "vitest";
import { newId, RECORD_ID_PATTERN } from "./ids.js";

describe("newId", () => {
  it("is 32 hex digits and time-ordered, also for a fractional timestamp", () => {
    const pattern = new RegExp(RECORD_ID_PATTERN);
    const a = newId(1_795_811_731_259.5);
    const b = newId(1_795_811_731_260.25);
    expect(a).toMatch(pattern);
    expect(b).toMatch(pattern);
    expect(a < b).toBe(true);
  });

  it("ids made in the same millisecond share its digits and still differ; the next millisecond sorts after", () => {
    const [a, b, c] = [newId(1_795_811_731_259), newId(1_795_811_731_259.9), newId(1_795_811_731_260)];
    expect(a.slice(0, 12)).toBe((1_795_811_731_259).toString(16).padStart(12, "0"));
    expect(b.slice(0, 24)).toBe(a.slice(0, 24));
    expect(a).not.toBe(b);
    expect(a < b && b < c).toBe(true);
    expect(c.slice(0, 12)).toBe((1_795_811_731_260).toString(16).padStart(12, "0"));
  });
});
