// What a stored record keeps of a run's request, response and return value: credentials and
// secrets never, bodies and values cut to the documented limits on a character boundary.
import { describe, expect, it } from "vitest";
import type { HttpRequestContext } from "../shared/wire.js";
import {
  invocationDetails,
  isCredentialName,
  RECORDED_BODY_BYTES,
  RECORDED_RESULT_BYTES,
  RECORDED_VALUE_CHARS,
  recordRequest,
  truncateUtf8,
} from "./invocation-details.js";
import { secretRedactor } from "./secret-redaction.js";

const request = (over: Partial<HttpRequestContext> = {}): HttpRequestContext => ({
  method: "POST",
  path: "/shop/cart",
  subpath: "/",
  query: {},
  headers: {},
  body: null,
  ...over,
});

describe("truncateUtf8", () => {
  it("keeps text within the limit whole and cuts longer text on a character boundary", () => {
    expect(truncateUtf8("hello", 10)).toEqual({ text: "hello", bytes: 5, truncated: false });
    expect(truncateUtf8("é".repeat(5), 10)).toEqual({ text: "é".repeat(5), bytes: 10, truncated: false });
    // 'é' is 2 bytes: 11 of them do not fit in 10 bytes, 5 do.
    expect(truncateUtf8("é".repeat(11), 10)).toEqual({ text: "é".repeat(5), bytes: 22, truncated: true });
    // 'a' + '€' (3 bytes) + '😀' (4 bytes): a cut at 6 bytes keeps 'a€' and drops the split emoji.
    expect(truncateUtf8("a€😀😀", 6)).toEqual({ text: "a€", bytes: 12, truncated: true });
    expect(truncateUtf8("a€😀😀", 8)).toEqual({ text: "a€😀", bytes: 12, truncated: true });
    expect(truncateUtf8("x".repeat(5000), 4096).text).toHaveLength(4096);
  });
});

describe("recorded request", () => {
  it("redacts credential headers and query parameters by name", () => {
    for (const name of [
      "Authorization",
      "cookie",
      "x-picloud-app-key",
      "x-api-key",
      "x-auth-token",
      "access_token",
      "client-secret",
      "password",
      "key",
      "x-hub-signature-256",
    ])
      expect(isCredentialName(name), name).toBe(true);
    for (const name of ["content-type", "accept", "user-agent", "x-request-id", "idempotency-key", "page", "author"])
      expect(isCredentialName(name), name).toBe(false);
    const recorded = recordRequest(
      request({
        query: { token: "t0ps3cret", page: "2", tags: ["a", "b"] },
        headers: { authorization: "Bearer abc", cookie: "sid=1", "x-picloud-app-key": "k", accept: "*/*" },
      }),
      undefined,
    );
    expect(recorded.query).toEqual({ token: "[redacted]", page: "2", tags: ["a", "b"] });
    expect(recorded.headers).toEqual({
      authorization: "[redacted]",
      cookie: "[redacted]",
      "x-picloud-app-key": "[redacted]",
      accept: "*/*",
    });
  });

  it("masks secret values everywhere, before cutting the body, and clips long header values", () => {
    const secret = "s3cr3t-value-xyz";
    const redact = secretRedactor({ STRIPE_KEY: secret });
    const body = `${"x".repeat(RECORDED_BODY_BYTES - 5)}${secret}`;
    const recorded = recordRequest(
      request({
        path: `/shop/cart/${secret}`,
        query: { q: secret },
        headers: { "x-note": `is ${secret}`, "x-long": "y".repeat(5000) },
        body,
      }),
      redact,
    );
    expect(JSON.stringify(recorded)).not.toContain("s3cr3t");
    expect(recorded.path).toBe("/shop/cart/[secret:STRIPE_KEY]");
    expect(recorded.headers["x-note"]).toBe("is [secret:STRIPE_KEY]");
    expect(recorded.headers["x-long"]).toHaveLength(RECORDED_VALUE_CHARS + 1);
    expect(recorded.body).toMatchObject({ truncated: true });
    expect(recorded.body?.text.startsWith("xxxxx")).toBe(true);
  });

  it("keeps JSON bodies as sent and a test run's sample value as JSON", () => {
    expect(recordRequest(request({ bodyJson: true, rawBody: '{"a": 1}' }), undefined).body).toEqual({
      text: '{"a": 1}',
      bytes: 8,
      truncated: false,
    });
    expect(recordRequest(request({ body: { a: 1 } }), undefined).body).toEqual({ text: '{"a":1}', bytes: 7, truncated: false });
    expect(recordRequest(request(), undefined).body).toBeNull();
  });
});

describe("invocationDetails", () => {
  it("records request and response for HTTP runs and the return value for triggered ones", () => {
    const ok = { ok: true as const, resultJson: '{"n":1}', logs: [], durationMs: 1 };
    const http = invocationDetails({ request: request() }, ok, { status: 201, headers: { "set-cookie": "a=b", "x-out": "1" } }, undefined);
    expect(http).toEqual({
      request: expect.objectContaining({ method: "POST", path: "/shop/cart" }),
      response: { status: 201, headers: { "set-cookie": "[redacted]", "x-out": "1" } },
      result: null,
    });
    expect(invocationDetails({}, ok, undefined, undefined)).toEqual({
      request: null,
      response: null,
      result: { text: '{"n":1}', bytes: 7, truncated: false, returned: true },
    });
    expect(invocationDetails({}, { ...ok, resultJson: undefined }, undefined, undefined).result).toEqual({
      text: "",
      bytes: 0,
      truncated: false,
      returned: false,
    });
    const big = invocationDetails({}, { ...ok, resultJson: JSON.stringify("z".repeat(10_000)) }, undefined, undefined).result;
    expect(big).toMatchObject({ bytes: 10_002, truncated: true, returned: true });
    expect(big?.text).toHaveLength(RECORDED_RESULT_BYTES);
    const failed = { ok: false as const, error: { code: "SCRIPT_ERROR", message: "x" }, logs: [], durationMs: 1 };
    expect(invocationDetails({}, failed, undefined, undefined).result).toBeNull();
  });
});
