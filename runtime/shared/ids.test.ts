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
});
