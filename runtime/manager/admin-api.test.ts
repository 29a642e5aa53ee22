// The admin API: auth, validation, apps, scripts and versions, KV, invocations, tokens, OpenAPI.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../shared/errors.js";
import { startTestRuntime, TEST_TOKEN, type TestRuntime } from "../testing/runtime.js";

let t: TestRuntime;

beforeAll(async () => {
  t = await startTestRuntime({ flags: { adminRateLimitPerMinute: 1_000 } });
});
afterAll(async () => {
  await t?.close();
});

describe("auth", () => {
  it("every admin route answers 401 without a token or with a wrong one", async () => {
    for (const [method, path] of [
      ["GET", "/apps"],
      ["POST", "/apps"],
      ["DELETE", "/apps/x"],
      ["PUT", "/apps/x/scripts/y"],
      ["GET", "/apps/x/kv/c"],
      ["GET", "/invocations"],
      ["GET", "/tokens"],
      ["GET", "/nonexistent-route"],
    ] as const) {
      const missing = await t.api(method, path, method === "GET" || method === "DELETE" ? undefined : {}, null);
      expect(missing.statusCode, `${method} ${path}`).toBe(401);
      expect(missing.json().error.code).toBe("AUTH_REQUIRED");
      const wrong = await t.api(method, path, undefined, "pc_wrong_token_000000000000");
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error.code).toBe("AUTH_INVALID");
    }
    const malformed = await t.runtime.app.inject({ method: "GET", url: "/api/v1/apps", headers: { authorization: "Basic abc" } });
    expect(malformed.statusCode).toBe(401);
  });

  it("tokens can be created, listed (never shown again) and revoked", async () => {
    const created = await t.api("POST", "/tokens", { name: "laptop" });
    expect(created.statusCode).toBe(201);
    const { token, id } = created.json();
    expect((await t.api("GET", "/apps", undefined, token)).statusCode).toBe(200);
    const listed = (await t.api("GET", "/tokens")).json().tokens;
    expect(listed.map((x: { name: string }) => x.name)).toContain("laptop");
    expect(JSON.stringify(listed)).not.toContain(token);
    expect((await t.api("DELETE", `/tokens/${id}`)).statusCode).toBe(204);
    expect((await t.api("GET", "/apps", undefined, token)).statusCode).toBe(401);
    expect((await t.api("DELETE", `/tokens/${id}`)).json().error.code).toBe("TOKEN_NOT_FOUND");
  });

  it("dead-letter id lists are checked against the record id pattern: 400 VALIDATION_FAILED, and the OpenAPI document says so", async () => {
    for (const route of ["/deadletters/replay", "/deadletters/delete"]) {
      for (const id of ["nothex", "0".repeat(31), "G".repeat(32), `${"0".repeat(32)} `]) {
        const response = await t.api("POST", route, { ids: [id] });
        expect(response.statusCode, `${route} ${id}`).toBe(400);
        expect(response.json().error.code).toBe("VALIDATION_FAILED");
      }
      // Well-formed but unknown: reported back, not refused.
      expect((await t.api("POST", route, { ids: ["0".repeat(32)] })).json().missing).toEqual(["0".repeat(32)]);
    }
    const doc = (await t.runtime.app.inject({ method: "GET", url: "/api/v1/openapi.json" })).json();
    const body = doc.paths["/api/v1/deadletters/replay"].post.requestBody.content["application/json"].schema;
    expect(body.properties.ids.items).toMatchObject({ pattern: "^[0-9a-f]{32}$", minLength: 32, maxLength: 32 });
  });

  it("the OpenAPI document and health are public", async () => {
    const doc = await t.runtime.app.inject({ method: "GET", url: "/api/v1/openapi.json" });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json().paths)).toEqual(
      expect.arrayContaining(["/api/v1/apps", "/api/v1/apps/{app}/scripts/{name}", "/api/v1/invocations"]),
    );
    expect((await t.runtime.app.inject({ method: "GET", url: "/health" })).json()).toMatchObject({ ok: true });
  });
});

describe("apps", () => {
  it("creates, lists and deletes apps; ids are validated slugs", async () => {
    expect((await t.api("POST", "/apps", { id: "shop" })).statusCode).toBe(201);
    expect((await t.api("POST", "/apps", { id: "shop" })).json().error.code).toBe("APP_EXISTS");
    for (const id of ["Shop", "-x", "a_b", "", "x".repeat(64), "has space", "api"]) {
      const response = await t.api("POST", "/apps", { id });
      expect(response.statusCode, id).toBe(400);
      expect(["APP_INVALID_ID", "APP_RESERVED_ID"]).toContain(response.json().error.code);
    }
    expect((await t.api("GET", "/apps")).json().apps.map((a: { id: string }) => a.id)).toContain("shop");
    expect((await t.api("GET", "/apps/nope")).json().error.code).toBe("APP_NOT_FOUND");
  });

  it("wrong types and unknown fields are VALIDATION_FAILED; malformed JSON is INVALID_JSON", async () => {
    const wrongType = await t.api("POST", "/apps", { id: 42 });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.code).toBe("VALIDATION_FAILED");
    expect((await t.api("POST", "/apps", { id: "x1", surprise: true })).json().error.code).toBe("VALIDATION_FAILED");
    expect((await t.api("PATCH", "/apps/shop", { settings: { limits: { cpuMs: -5 } } })).json().error.code).toBe("VALIDATION_FAILED");
    expect((await t.api("PATCH", "/apps/shop", { settings: { limits: { stackKiB: 4096 } } })).json().error.code).toBe("VALIDATION_FAILED");
    const malformed = await t.runtime.app.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
      payload: "{not json",
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe("INVALID_JSON");
  });

  it("deleting an app removes its endpoints at once", async () => {
    await t.api("POST", "/apps", { id: "temp" });
    await t.deploy("temp", "s", "export default async function () { return 1 }");
    expect((await t.runtime.app.inject({ method: "GET", url: "/temp/s" })).statusCode).toBe(200);
    expect((await t.api("DELETE", "/apps/temp")).statusCode).toBe(204);
    expect((await t.runtime.app.inject({ method: "GET", url: "/temp/s" })).statusCode).toBe(404);
    expect((await t.api("DELETE", "/apps/temp")).statusCode).toBe(404);
  });
});

describe("scripts and versions", () => {
  it("deploy returns the endpoint URL and version; syntax errors give line and column", async () => {
    const ok = await t.deploy("shop", "cart", "export default async function () { return 'v1' }");
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ version: 1, url: expect.stringMatching(/\/shop\/cart$/) });
    const bad = await t.deploy("shop", "cart", "export default async function () {\n  return {\n    a: 1,,\n  }\n}");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: "SCRIPT_SYNTAX", line: 3, column: 10 });
    const badTs = await t.deploy("shop", "typed", "export default async function (x: number {\n}", "typescript");
    expect(badTs.json().error).toMatchObject({ code: "SCRIPT_SYNTAX", line: 1 });
    expect((await t.deploy("shop", "noexport", "async function f() {}")).json().error.code).toBe("SCRIPT_NO_DEFAULT_EXPORT");
    expect((await t.deploy("shop", "imports", "import fs from 'node:fs';\nexport default async () => fs")).json().error.code).toBe(
      "SCRIPT_IMPORT_UNSUPPORTED",
    );
    expect((await t.deploy("shop", "Bad Name", "export default 1")).json().error.code).toBe("SCRIPT_INVALID_NAME");
    expect((await t.deploy("ghost", "x", "export default async () => 1")).json().error.code).toBe("APP_NOT_FOUND");
    expect((await t.deploy("shop", "empty", "   ")).json().error.code).toBe("SCRIPT_SYNTAX");
    // Failed deploys never create versions.
    expect((await t.api("GET", "/apps/shop/scripts/cart/versions")).json().versions).toHaveLength(1);
  });

  it("lists versions, fetches any version's source and restores an earlier one", async () => {
    await t.deploy("shop", "cart", "export default async function () { return 'v2' }");
    const versions = (await t.api("GET", "/apps/shop/scripts/cart/versions")).json().versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect((await t.api("GET", "/apps/shop/scripts/cart/versions/1")).json().source).toContain("'v1'");
    expect((await t.runtime.app.inject({ method: "GET", url: "/shop/cart" })).body).toBe("v2");
    const restored = await t.api("POST", "/apps/shop/scripts/cart/versions/1/restore");
    expect(restored.json()).toMatchObject({ version: 3, restoredFrom: 1 });
    expect((await t.runtime.app.inject({ method: "GET", url: "/shop/cart" })).body).toBe("v1");
    expect((await t.api("POST", "/apps/shop/scripts/cart/versions/99/restore")).json().error.code).toBe("VERSION_NOT_FOUND");
    const current = (await t.api("GET", "/apps/shop/scripts/cart")).json();
    expect(current).toMatchObject({ version: 3, source: expect.stringContaining("'v1'") });
    const listed = (await t.api("GET", "/apps/shop/scripts")).json().scripts;
    expect(listed.find((s: { name: string }) => s.name === "cart")).toMatchObject({ currentVersion: 3 });
  });

  it("test runs return response, logs, duration and errors", async () => {
    await t.deploy(
      "shop",
      "probe",
      "export default async function (ctx) { console.log('got', ctx.request?.body ?? ctx.event); if (ctx.event?.fail) throw new Error('asked to fail'); return { saw: ctx.request?.method ?? ctx.event.type } }",
    );
    const run = (await t.api("POST", "/apps/shop/scripts/probe/invoke", { request: { method: "POST", body: { x: 1 } } })).json();
    expect(run).toMatchObject({
      ok: true,
      status: 200,
      body: '{"saw":"POST"}',
      logs: [{ level: "log", message: 'got {"x":1}' }],
      error: null,
    });
    expect(run.durationMs).toBeGreaterThan(0);
    const evented = (await t.api("POST", "/apps/shop/scripts/probe/invoke", { event: { type: "kv", fail: true } })).json();
    expect(evented).toMatchObject({ ok: false, error: { code: "SCRIPT_ERROR", message: "Error: asked to fail", line: 1 } });
  });
});

describe("kv API", () => {
  it("puts, gets, lists with prefix and cursor, and deletes values", async () => {
    for (const key of ["user:1", "user:2", "user/3", "other"]) {
      expect((await t.api("PUT", `/apps/shop/kv/people/${encodeURIComponent(key)}`, { value: { key } })).statusCode).toBe(200);
    }
    expect((await t.api("PUT", "/apps/shop/kv/people/other", { value: 5 })).json().op).toBe("update");
    expect((await t.api("GET", `/apps/shop/kv/people/${encodeURIComponent("user/3")}`)).json()).toEqual({
      key: "user/3",
      value: { key: "user/3" },
    });
    const page = (await t.api("GET", "/apps/shop/kv/people?prefix=user&limit=2")).json();
    expect(page.items.map((i: { key: string }) => i.key)).toEqual(["user/3", "user:1"]);
    const next = (await t.api("GET", `/apps/shop/kv/people?prefix=user&limit=2&cursor=${page.cursor}`)).json();
    expect(next).toEqual({ items: [{ key: "user:2", value: { key: "user:2" } }], cursor: null });
    expect((await t.api("GET", "/apps/shop/kv")).json().collections).toContainEqual({ name: "people", count: 4 });
    expect((await t.api("DELETE", "/apps/shop/kv/people/other")).statusCode).toBe(204);
    expect((await t.api("GET", "/apps/shop/kv/people/other")).json().error.code).toBe("KV_KEY_NOT_FOUND");
    expect((await t.api("PUT", "/apps/shop/kv/people/x", {})).json().error.code).toBe("VALIDATION_FAILED");
    expect((await t.api("PUT", "/apps/shop/kv/bad%20name/x", { value: 1 })).json().error.code).toBe("KV_INVALID_COLLECTION");
    expect((await t.api("GET", "/apps/ghost/kv/c")).json().error.code).toBe("APP_NOT_FOUND");
  });
});

describe("invocations", () => {
  it("records every invocation with script, version, trigger, status, duration, logs and error", async () => {
    await t.deploy(
      "shop",
      "logged",
      "export default async function (ctx) { console.warn('careful'); if (ctx.request.query.fail) throw new Error('failed on purpose'); return 1 }",
    );
    await t.runtime.app.inject({ method: "GET", url: "/shop/logged" });
    await t.runtime.app.inject({ method: "GET", url: "/shop/logged?fail=1" });
    const all = (await t.api("GET", "/invocations?app=shop&script=logged")).json().invocations;
    expect(all).toHaveLength(2);
    expect(all[0]).toMatchObject({
      app: "shop",
      script: "logged",
      version: 1,
      trigger: "http",
      status: "error",
      error: { code: "SCRIPT_ERROR" },
    });
    expect(all[1]).toMatchObject({ status: "ok", logs: [{ level: "warn", message: "careful" }], error: null });
    const errors = (await t.api("GET", "/invocations?app=shop&status=error")).json().invocations;
    expect(errors.every((i: { status: string }) => i.status === "error")).toBe(true);
    expect((await t.api("GET", `/invocations/${all[1].id}`)).json().id).toBe(all[1].id);
    expect((await t.api("GET", "/invocations?status=bogus")).json().error.code).toBe("VALIDATION_FAILED");
  });
});

describe("error codes", () => {
  it("every code in the registry is documented in docs/errors.md", () => {
    const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});

describe("rate limits", () => {
  it("the admin API answers 429 with a coded error past its limit", async () => {
    const limited = await startTestRuntime({ flags: { adminRateLimitPerMinute: 5 } });
    try {
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await limited.api("GET", "/apps")).statusCode);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const blocked = await limited.api("GET", "/apps");
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().error.code).toBe("RATE_LIMITED");
    } finally {
      await limited.close();
    }
  });
});
