// A Schemathesis-style fuzz pass over the admin API, driven by its own OpenAPI document: for every
// operation, fast-check builds requests from the documented parameters and body schema, mixing
// valid values, boundary values and hostile ones (NUL, lone surrogates, huge numbers, wrong types,
// deep nesting, broken JSON). Any 5xx fails the test, with the request that caused it.
// PICLOUD_FUZZ_RUNS (per operation) and PICLOUD_FUZZ_SEED widen or vary the pass.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, TEST_TOKEN, type TestRuntime } from "../testing/runtime.js";

type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  additionalProperties?: boolean | Schema;
};
interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface FuzzRequest {
  method: string;
  url: string;
  payload?: string;
  contentType?: string;
}

const RUNS = Number(process.env.PICLOUD_FUZZ_RUNS ?? 60);
const SEED = Number(process.env.PICLOUD_FUZZ_SEED ?? 20_261_127);
/** The stream never ends and is covered by its own tests. */
const SKIPPED = new Set(["get /api/v1/stream"]);

/** Values that broke the API before: they are drawn often, not left to chance. */
const hostileText = fc.constantFrom(
  "",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x".repeat(5_000),
  "../../etc/passwd",
  "%ff",
  "null",
  "2147483648",
  "-1",
  "1e309",
  "Shop",
  "api",
  " ",
  "🙂",
  "\u2028",
  "__proto__",
  "2020-01-01T00:00:00-23:34",
  "9999-12-31T23:59:59+23:59",
  "0000-01-01T00:00:00Z",
);
/** Names that exist in the seeded data, so some requests reach real rows. */
const knownText = fc.constantFrom("fz", "s", "c", "k", "a", "fz-b", "0123456789abcdef0123456789abcdef");
const anyText = fc.oneof({ weight: 3, arbitrary: hostileText }, { weight: 3, arbitrary: knownText }, { weight: 2, arbitrary: fc.string() });
const hostileNumber = fc.constantFrom(
  0,
  -1,
  1,
  2_147_483_647,
  2_147_483_648,
  Number.MAX_SAFE_INTEGER,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0.5,
  Number.NaN,
);
const deepJson = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

function arbitraryFor(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const wrongType = fc.oneof(fc.constant(null), fc.boolean(), hostileNumber, anyText, fc.constant([]), fc.constant({}));
  const valid = validFor(schema, depth);
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: wrongType });
}

function validFor(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  if (depth > 4) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.length > 0) return fc.oneof(...variants.map((v) => validFor(v, depth + 1)));
  if (schema.allOf && schema.allOf.length > 0) {
    return fc
      .tuple(...schema.allOf.map((v) => validFor(v, depth + 1)))
      .map((parts) => Object.assign({}, ...parts.filter((p) => p && typeof p === "object")));
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return anyText;
    case "integer":
      return fc.oneof(fc.integer({ min: schema.minimum ?? -1_000, max: Math.min(schema.maximum ?? 1_000, 1_000_000) }), hostileNumber);
    case "number":
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), hostileNumber);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(arbitraryFor(schema.items ?? {}, depth + 1), { maxLength: 4 });
    case "object": {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record = fc.record(Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, arbitraryFor(sub, depth + 1)])), {
        requiredKeys: [...required].filter((k) => k in properties),
      });
      // Sometimes an unknown field, sometimes a free-form map.
      return fc.oneof(
        { weight: 4, arbitrary: record },
        {
          weight: 1,
          arbitrary: fc.tuple(record, anyText, fc.jsonValue({ maxDepth: 2 })).map(([r, k, v]) => ({ ...(r as object), [k]: v })),
        },
      );
    }
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** Bodies as raw text: mostly JSON of the schema, sometimes broken, deep or oversized. */
function bodyFor(schema: Schema | undefined): fc.Arbitrary<{ payload?: string; contentType?: string }> {
  const json = (schema ? arbitraryFor(schema) : fc.jsonValue()).map((value) => ({
    payload: JSON.stringify(value) ?? "null",
    contentType: "application/json",
  }));
  const hostile = fc.constantFrom(
    { payload: "{", contentType: "application/json" },
    { payload: "", contentType: "application/json" },
    { payload: `{"value":${deepJson(100_000)}}`, contentType: "application/json" },
    { payload: '{"__proto__":{"admin":true}}', contentType: "application/json" },
    { payload: '{"source":"\\u0000","value":"\\u0000","name":"\\u0000","id":"\\u0000"}', contentType: "application/json" },
    { payload: "id=x", contentType: "application/x-www-form-urlencoded" },
    { payload: "x".repeat(2 * 1024 * 1024), contentType: "application/json" },
    {},
  );
  return fc.oneof({ weight: 5, arbitrary: json }, { weight: 1, arbitrary: hostile });
}

/** Percent-encodes a path segment; a lone surrogate (which encodeURIComponent refuses) goes as its raw bytes. */
function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80";
  }
}

function requestFor(method: string, path: string, op: Operation): fc.Arbitrary<FuzzRequest> {
  const params = op.parameters ?? [];
  const values = fc.record(
    Object.fromEntries(
      params.map((p) => [
        `${p.in}:${p.name}`,
        p.in === "path" || p.required ? arbitraryFor(p.schema) : fc.option(arbitraryFor(p.schema), { nil: undefined }),
      ]),
    ),
  );
  const schema = op.requestBody?.content["application/json"]?.schema;
  const body = op.requestBody ? bodyFor(schema) : fc.constant({});
  return fc.tuple(values, body).map(([v, b]) => {
    const record = v as Record<string, unknown>;
    const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeSegment(String(record[`path:${name}`] ?? "")) || "%20");
    const query = new URLSearchParams();
    for (const p of params) {
      const value = record[`query:${p.name}`];
      if (p.in === "query" && value !== undefined) query.set(p.name, typeof value === "string" ? value : JSON.stringify(value));
    }
    const qs = query.toString();
    return { method: method.toUpperCase(), url: qs ? `${url}?${qs}` : url, ...b };
  });
}

let t: TestRuntime;
let doc: { paths: Record<string, Record<string, Operation>> };

beforeAll(async () => {
  t = await startTestRuntime({ flags: { adminRateLimitPerMinute: 1_000_000 } });
  // Seed rows for the fuzzer's known names to hit.
  await t.api("POST", "/apps", { id: "fz" });
  await t.deploy("fz", "s", "export default async (ctx) => ({ ok: true, q: ctx.request?.query ?? null })");
  await t.api("PUT", "/apps/fz/kv/c/k", { value: { n: 1 } });
  await t.api("POST", "/apps/fz/triggers", { kind: "kv", script: "s", collection: "c" });
  doc = (await t.runtime.app.inject({ method: "GET", url: "/api/v1/openapi.json" })).json();
});
afterAll(async () => {
  await t?.close();
});

describe("admin API fuzz pass (OpenAPI-driven, fast-check)", () => {
  it("no generated request gets a 5xx", { timeout: 600_000 }, async () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => !SKIPPED.has(`${method} ${path}`))
        .map(([method, op]) => ({ method, path, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(30);
    const failures: string[] = [];
    let sent = 0;
    for (const [index, { method, path, op }] of operations.entries()) {
      for (const request of fc.sample(requestFor(method, path, op), { numRuns: RUNS, seed: SEED + index })) {
        const response = await t.runtime.app.inject({
          method: request.method as "GET",
          url: request.url,
          headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(request.contentType && { "content-type": request.contentType }) },
          ...(request.payload !== undefined && { payload: request.payload }),
        });
        sent++;
        if (response.statusCode >= 500) {
          failures.push(
            `${response.statusCode} ${request.method} ${request.url} ${request.payload?.slice(0, 200) ?? ""} -> ${response.body.slice(0, 200)}`,
          );
        }
        // Every answer, good or bad, is JSON in the documented shape (or empty for 204).
        if (response.statusCode >= 400) expect(Object.keys(response.json()), `${request.method} ${request.url}`).toEqual(["error"]);
      }
    }
    console.info(`api fuzz: ${operations.length} operations, ${sent} requests, ${failures.length} answered 5xx (seed ${SEED})`);
    expect(failures).toEqual([]);
  });

  it("raw paths with arbitrary bytes get a coded 4xx, before and after auth", { timeout: 120_000 }, async () => {
    const segment = fc.oneof(
      fc.string({ unit: "binary", maxLength: 12 }).map(encodeURIComponent),
      fc.constantFrom("%ff", "%00", "%c0%af", "..", "%2e%2e", "%", "%zz", "fz", "apps", "kv", "scripts", "versions", "2147483648"),
    );
    const paths = fc.sample(fc.array(segment, { minLength: 1, maxLength: 6 }), { numRuns: 300, seed: SEED });
    const failures: string[] = [];
    for (const [i, segments] of paths.entries()) {
      const url = `${i % 2 === 0 ? "/api/v1/" : "/"}${segments.join("/")}`;
      for (const headers of [{ authorization: `Bearer ${TEST_TOKEN}` }, {}]) {
        const response = await t.runtime.app.inject({ method: i % 3 === 0 ? "POST" : "GET", url, headers });
        if (response.statusCode >= 500) failures.push(`${response.statusCode} ${url} -> ${response.body.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
