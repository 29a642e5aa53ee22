import { describe, expect, it } from "vitest";
import { InvalidIpcInput, validateId, validateNewConnection } from "./connection-validation.js";

describe("IPC input validation", () => {
  it("accepts a well-formed connection and normalises its URL", () => {
    expect(validateNewConnection({ name: " home ", url: "http://192.168.1.20:8787/", token: "pc_0123456789abcdef" })).toEqual({
      name: "home",
      url: "http://192.168.1.20:8787",
      token: "pc_0123456789abcdef",
    });
  });

  it.each([
    [null],
    ["string"],
    [{ name: "", url: "http://x", token: "pc_0123456789abcdef" }],
    [{ name: "a", url: "file:///etc/passwd", token: "pc_0123456789abcdef" }],
    [{ name: "a", url: "javascript:alert(1)", token: "pc_0123456789abcdef" }],
    [{ name: "a", url: "http://user:pw@host", token: "pc_0123456789abcdef" }],
    [{ name: "a", url: "not a url", token: "pc_0123456789abcdef" }],
    [{ name: "a", url: "http://x", token: "short" }],
    [{ name: "a", url: "http://x", token: 42 }],
  ])("refuses %j", (input) => {
    expect(() => validateNewConnection(input)).toThrow(InvalidIpcInput);
  });

  it("accepts only plain ids", () => {
    expect(validateId("local")).toBe("local");
    expect(() => validateId("../../x")).toThrow(InvalidIpcInput);
    expect(() => validateId({})).toThrow(InvalidIpcInput);
  });
});
