import { describe, expect, it } from "vitest";
import { jsonDepth, MAX_JSON_DEPTH, parseJsonBody } from "./bounded-json.js";

describe("bounded JSON", () => {
  it("measures nesting and ignores brackets inside strings", () => {
    expect(jsonDepth("1")).toBe(0);
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('["[[[[\\"[[["]')).toBe(1);
  });

  it("refuses a 100,000-deep body with INVALID_JSON instead of overflowing later", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect(() => parseJsonBody(deep)).toThrow(expect.objectContaining({ code: "INVALID_JSON" }));
    const ok = `${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`;
    expect(JSON.stringify(parseJsonBody(ok)).length).toBe(ok.length);
  });

  it("refuses prototype keys, empty and malformed bodies", () => {
    for (const text of ['{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', "", "  ", "{", "nul"]) {
      expect(() => parseJsonBody(text), text).toThrow(expect.objectContaining({ code: "INVALID_JSON" }));
    }
  });
});
