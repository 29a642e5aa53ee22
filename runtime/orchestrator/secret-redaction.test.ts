// Secret masking: every value as written and as JSON escapes it; one redactor per (frozen) env.
import { describe, expect, it } from "vitest";
import { secretRedactor } from "./secret-redaction.js";

describe("secretRedactor", () => {
  it("masks each value, longest first, and its JSON-escaped form", () => {
    const redact = secretRedactor(Object.freeze({ KEY: "abc123", LONG: "abc123-xyz", QUOTED: 'say "hi"', S: "no" }));
    expect(redact?.('abc123-xyz abc123 {"q":"say \\"hi\\""} no')).toBe('[secret:LONG] [secret:KEY] {"q":"[secret:QUOTED]"} no');
  });

  it("is made once per frozen env; a mutable env is read afresh each time", () => {
    const frozen = Object.freeze({ KEY: "abc123" });
    expect(secretRedactor(frozen)).toBe(secretRedactor(frozen));
    expect(secretRedactor(Object.freeze({}))).toBeUndefined();
    const mutable: Record<string, string> = { KEY: "abc123" };
    expect(secretRedactor(mutable)?.("abc123 def456")).toBe("[secret:KEY] def456");
    mutable.OTHER = "def456";
    expect(secretRedactor(mutable)?.("abc123 def456")).toBe("[secret:KEY] [secret:OTHER]");
  });
});
