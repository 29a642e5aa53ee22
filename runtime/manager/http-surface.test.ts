// The HTTP surface under hostile input: every bad input is a coded 4xx in the one error shape,
// methods and token placement are checked, the last token is kept, the OpenAPI document says all
// of it, and tenant responses are isolated from the dashboard's origin.
import type { TSchema } from "typebox";
import { Value } from "typebox/value";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, TEST_TOKEN, type TestRuntime } from "../testing/runtime.js";
import { StreamMessagesSchema } from "./routes/stream.js";

let t: TestRuntime;
let listening: Promise<string> | undefined;
/** The runtime on a real socket (started once, for the tests that need one). */
const baseUrl = () => (listening ??= t.runtime.listen());
const auth = { authorization: `Bearer ${TEST_TOKEN}` };

beforeAll(async () => {
  t = await startTestRuntime({ flags: { adminRateLimitPerMinute: 100_000 } });
  expect((await t.api("POST", "/apps", { id: "shop" })).statusCode).toBe(201);
  expect((await t.deploy("shop", "page", "export default async (ctx) => ctx.request.query.p ?? null")).statusCode).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

function expectCoded(response: { statusCode: number; json(): unknown }, status: number, code?: string) {
  expect(response.statusCode).toBe(status);
  const body = response.json() as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.message).toBe("string");
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

describe("bad input is a coded 400, never a 500", () => {
  // Each of these answered 500 INTERNAL before (issue 7, item 9).
  const cases: [string, string, unknown, string][] = [
    ["GET", "/apps/a%00b", undefined, "APP_INVALID_ID"],
    ["GET", "/apps/shop/kv/c?prefix=a%00", undefined, "VALIDATION_FAILED"],
    ["POST", "/tokens", { name: "a\u0000b" }, "VALIDATION_FAILED"],
    ["PUT", "/apps/shop/scripts/x", { source: "export default async () => '\u0000'" }, "VALIDATION_FAILED"],
    ["PATCH", "/apps/shop", { settings: { appKey: "a\u0000bcdefghijklmnopq" } }, "VALIDATION_FAILED"],
    ["GET", "/apps/shop/scripts/page/versions/2147483648", undefined, "VALIDATION_FAILED"],
    ["GET", "/invocations?before=a%00", undefined, "VALIDATION_FAILED"],
    ["GET", "/invocations/%00", undefined, "VALIDATION_FAILED"],
    ["GET", "/events/a%00", undefined, "VALIDATION_FAILED"],
    ["GET", "/events?app=a%00", undefined, "APP_INVALID_ID"],
    ["GET", "/deadletters/%00", undefined, "VALIDATION_FAILED"],
    ["DELETE", "/tokens/%00", undefined, "VALIDATION_FAILED"],
    ["DELETE", "/triggers/%00", undefined, "VALIDATION_FAILED"],
    ["GET", "/apps/shop/scripts/s%00", undefined, "SCRIPT_INVALID_NAME"],
    ["POST", "/apps/shop/triggers", { kind: "kv", script: "s\u0000", collection: "c" }, "SCRIPT_INVALID_NAME"],
    ["GET", "/apps/shop/kv/c%00/k", undefined, "KV_INVALID_COLLECTION"],
  ];
  it.each(cases)("%s %s", async (method, path, body, code) => {
    expectCoded(await t.api(method, path, body), 400, code);
  });

  it("a date-time with a -23:34 offset is read as UTC, not handed to PostgreSQL", async () => {
    const response = await t.api("GET", "/deadletters?since=2020-01-01T00:00:00-23:34");
    expect(response.statusCode).toBe(200);
  });

  it("a 100,000-deep KV PUT body is INVALID_JSON", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const response = await t.runtime.app.inject({
      method: "PUT",
      url: "/api/v1/apps/shop/kv/c/k",
      headers: { ...auth, "content-type": "application/json" },
      payload: `{"value":${deep}}`,
    });
    expectCoded(response, 400, "INVALID_JSON");
  });

  it("a script listing with a NUL prefix gets KV_INVALID_KEY, which it can catch", async () => {
    await t.deploy(
      "shop",
      "lister",
      `export default async () => { try { await kv.collection("c").list({ prefix: "a\\u0000" }); return "listed"; } catch (e) { return e.code; } }`,
    );
    const response = await t.runtime.app.inject({ method: "GET", url: "/shop/lister" });
    expect(response.body).toBe("KV_INVALID_KEY");
  });

  it("names that cannot exist answer 404 at the script endpoint without a lookup", async () => {
    expectCoded(await t.runtime.app.inject({ method: "GET", url: "/a%00b/s" }), 404, "SCRIPT_NOT_FOUND");
  });
});

describe("one error shape everywhere", () => {
  it("a URL that does not decode is a coded 400, before and after /api/v1", async () => {
    for (const url of ["/%ff", "/api/v1/apps/%ff"]) {
      expectCoded(await t.runtime.app.inject({ method: "GET", url }), 400, "BAD_REQUEST");
    }
  });

  it("oversized headers get a coded 431 over a real socket", async () => {
    const url = await baseUrl();
    const response = await fetch(`${url}/health`, { headers: { "x-big": "a".repeat(100 * 1024) } });
    expect(response.status).toBe(431);
    expect(await response.json()).toEqual({ error: { code: "HEADERS_TOO_LARGE", message: expect.any(String) } });
  });
});

describe("methods", () => {
  it("TRACE and other unserved methods are 405 everywhere, before auth", async () => {
    for (const url of ["/api/v1/apps", "/shop/page", "/"]) {
      const response = await t.runtime.app.inject({ method: "TRACE", url });
      expectCoded(response, 405, "METHOD_NOT_ALLOWED");
      expect(response.headers.allow).toContain("GET");
    }
  });

  it("a known admin path with another method is 405 with an allow header; unknown paths stay 404", async () => {
    const response = await t.api("PATCH", "/tokens", {});
    expectCoded(response, 405, "METHOD_NOT_ALLOWED");
    expect(String(response.headers.allow).split(", ")).toEqual(expect.arrayContaining(["GET", "POST"]));
    expectCoded(await t.api("PUT", "/apps/shop"), 405, "METHOD_NOT_ALLOWED");
    expectCoded(await t.api("GET", "/no-such-route"), 404, "NOT_FOUND");
  });
});

describe("admin tokens", () => {
  it("?access_token= is refused on admin routes and accepted only on the stream", async () => {
    const query = await t.runtime.app.inject({ method: "GET", url: `/api/v1/apps?access_token=${TEST_TOKEN}` });
    expectCoded(query, 401, "AUTH_REQUIRED");
    expect(query.json().error.message).toContain("event stream");
    const url = await baseUrl();
    const controller = new AbortController();
    const stream = await fetch(`${url}/api/v1/stream?access_token=${TEST_TOKEN}`, { signal: controller.signal });
    expect(stream.status).toBe(200);
    controller.abort();
  });

  it("the last admin token cannot be deleted, not even by itself (TOKEN_LAST)", async () => {
    const tokens = (await t.api("GET", "/tokens")).json().tokens as { id: string }[];
    // Leave exactly one token: the test token.
    const own = tokens.find((x) => x.id)!;
    for (const other of tokens) if (other.id !== own.id) await t.api("DELETE", `/tokens/${other.id}`);
    const remaining = (await t.api("GET", "/tokens")).json().tokens as { id: string }[];
    expect(remaining).toHaveLength(1);
    expectCoded(await t.api("DELETE", `/tokens/${remaining[0]?.id}`), 409, "TOKEN_LAST");
    expect((await t.api("GET", "/apps")).statusCode).toBe(200);
    // With a second token, either can go.
    const second = (await t.api("POST", "/tokens", { name: "second" })).json();
    expect((await t.api("DELETE", `/tokens/${second.id}`)).statusCode).toBe(204);
  });
});

describe("the live stream", () => {
  it("sends each message type in the shape the OpenAPI document describes", async () => {
    const url = await baseUrl();
    const controller = new AbortController();
    const response = await fetch(`${url}/api/v1/stream?app=streamed`, { headers: auth, signal: controller.signal });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const received: { type: string; data: unknown }[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type && data) received.push({ type, data: JSON.parse(data) });
        }
      }
    })().catch(() => undefined); // aborted at the end
    try {
      await t.api("POST", "/apps", { id: "streamed" }); // change
      await t.deploy("streamed", "log", "export default async (ctx) => { console.log(ctx.event.key); return 1 }");
      await t.api("POST", "/apps/streamed/triggers", { kind: "kv", script: "log", collection: "in" });
      await t.api("PUT", "/apps/streamed/kv/in/k1", { value: { n: 1 } }); // event: running, done; invocation
      const types = () => new Set(received.map((m) => m.type));
      for (let i = 0; i < 100 && !["change", "event", "invocation"].every((type) => types().has(type)); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect([...types()].sort()).toEqual(["change", "event", "invocation"]);
      const schemas: Record<string, TSchema> = StreamMessagesSchema.properties;
      for (const message of received) {
        const schema = schemas[message.type];
        expect(schema, message.type).toBeDefined();
        expect([...Value.Errors(schema as TSchema, message.data)], `${message.type} ${JSON.stringify(message.data)}`).toEqual([]);
      }
      expect(received.find((m) => m.type === "invocation")?.data).toMatchObject({
        app: "streamed",
        script: "log",
        trigger: "kv",
        stored: true,
      });
    } finally {
      controller.abort();
      await reading;
    }
  });
});

describe("tenant responses are isolated from the dashboard origin", () => {
  it("script responses are sandboxed, never sniffed, and cannot set cookies", async () => {
    await t.deploy(
      "shop",
      "html",
      `export default async () => ({ status: 200, headers: { "content-type": "text/html", "set-cookie": "session=evil; Path=/", "content-security-policy": "img-src 'none'" }, body: "<p>hi</p>" })`,
    );
    const response = await t.runtime.app.inject({ method: "GET", url: "/shop/html" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-security-policy"]).toMatch(/^img-src 'none', sandbox\b/);
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.headers["set-cookie"]).toBeUndefined();
    // Errors from the endpoint are sandboxed too.
    const missing = await t.runtime.app.inject({ method: "GET", url: "/shop/none" });
    expect(missing.headers["content-security-policy"]).toMatch(/sandbox/);
  });

  it("an app that opts out (browserSandbox: false) gets its headers as sent", async () => {
    await t.api("POST", "/apps", { id: "trusted", settings: { browserSandbox: false } });
    await t.deploy("trusted", "html", `export default async () => ({ status: 200, headers: { "set-cookie": "a=b" }, body: "ok" })`);
    const response = await t.runtime.app.inject({ method: "GET", url: "/trusted/html" });
    expect(response.headers["content-security-policy"]).toBeUndefined();
    expect(response.headers["set-cookie"]).toBe("a=b");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("admin API answers carry a CSP that forbids running or framing them", async () => {
    const response = await t.api("GET", "/apps");
    expect(response.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
  });
});

describe("the OpenAPI document", () => {
  interface Operation {
    responses: Record<string, { description: string; content?: Record<string, { schema: { $ref?: string } }> }>;
    parameters?: { name: string; in: string; schema: Record<string, unknown> }[];
  }
  let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  beforeAll(async () => {
    doc = (await t.runtime.app.inject({ method: "GET", url: "/api/v1/openapi.json" })).json();
  });

  it("documents the error answers with the error schema on every operation", () => {
    expect(doc.components.schemas.PiCloudError).toBeDefined();
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([m, op]) => [`${m} ${path}`, op] as const),
    );
    expect(operations.length).toBeGreaterThan(30);
    for (const [name, op] of operations) {
      for (const status of ["400", "401", "404", "409", "413", "429", "500", "503"]) {
        expect(op.responses[status]?.content?.["application/json"]?.schema.$ref, `${name} ${status}`).toBe(
          "#/components/schemas/PiCloudError",
        );
      }
    }
  });

  it("documents DELETE answers as 204 and ids with their patterns", () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (methods.delete) expect(Object.keys(methods.delete.responses), path).toContain("204");
      if (methods.delete) expect(Object.keys(methods.delete.responses), path).not.toContain("200");
    }
    const appParam = doc.paths["/api/v1/apps/{app}"]?.get?.parameters?.find((p) => p.name === "app");
    expect(appParam?.schema).toMatchObject({ pattern: expect.any(String), minLength: 1, maxLength: 63 });
    const version = doc.paths["/api/v1/apps/{app}/scripts/{name}/versions/{version}"]?.get?.parameters?.find((p) => p.name === "version");
    expect(version?.schema).toMatchObject({ minimum: 1, maximum: 2_147_483_647 });
  });

  it("what a DELETE answers matches the document", async () => {
    await t.api("POST", "/apps", { id: "gone" });
    expect((await t.api("DELETE", "/apps/gone")).statusCode).toBe(204);
  });
});
