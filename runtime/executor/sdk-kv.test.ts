// The `kv` SDK as scripts see it, through the sandbox bridge (mirrors the seed's sdk_kv tests).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../testing/databases.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

describe.each(BACKENDS)("kv SDK on %s", (backend) => {
  let t: TestRuntime;

  /** Deploys `body` as a handler of app `app` and returns what it returned. */
  async function run(app: string, body: string): Promise<unknown> {
    const name = `s${Math.random().toString(36).slice(2, 10)}`;
    const deployed = await t.deploy(app, name, `export default async function (ctx) {\n${body}\n}`);
    expect(deployed.statusCode, deployed.body).toBe(201);
    const response = await t.runtime.app.inject({ method: "GET", url: `/${app}/${name}` });
    if (response.statusCode !== 200) return { status: response.statusCode, ...(response.json() as object) };
    return String(response.headers["content-type"]).startsWith("text/plain") ? response.body : response.json();
  }

  beforeAll(async () => {
    t = await startTestRuntime({ backend });
    await t.api("POST", "/apps", { id: "app-a" });
    await t.api("POST", "/apps", { id: "app-b" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("round-trips values", async () => {
    expect(
      await run("app-a", "const w = kv.collection('widgets'); await w.set('k', { n: 1, tags: ['a'] }); return await w.get('k');"),
    ).toEqual({
      n: 1,
      tags: ["a"],
    });
  });

  it("a missing key gives null", async () => {
    expect(await run("app-a", "return { v: await kv.collection('widgets').get('nope') };")).toEqual({ v: null });
  });

  it("has returns a boolean", async () => {
    expect(
      await run("app-a", "const w = kv.collection('widgets'); await w.set('here', 0); return [await w.has('here'), await w.has('gone')];"),
    ).toEqual([true, false]);
  });

  it("delete says whether the key was present", async () => {
    expect(
      await run("app-a", "const w = kv.collection('widgets'); await w.set('d', 1); return [await w.delete('d'), await w.delete('d')];"),
    ).toEqual([true, false]);
  });

  it("an empty collection name is rejected with a catchable coded error", async () => {
    expect(
      await run("app-a", "try { kv.collection(''); return 'accepted'; } catch (e) { return { name: e.name, code: e.code }; }"),
    ).toEqual({
      name: "KvError",
      code: "KV_INVALID_COLLECTION",
    });
    expect(await run("app-a", "try { await kv.collection('bad/name').get('k'); return 'accepted'; } catch (e) { return e.code; }")).toBe(
      "KV_INVALID_COLLECTION",
    );
  });

  it("invalid keys and values are rejected with catchable coded errors", async () => {
    const result = await run(
      "app-a",
      `const w = kv.collection('widgets');
       const codes = [];
       for (const attempt of [() => w.get(''), () => w.get(42), () => w.set('k', undefined), () => w.set('k', () => 1),
                              () => w.set('x'.repeat(600), 1), () => w.set('big', 'x'.repeat(1100000)), () => w.list({ cursor: 'garbage' })]) {
         try { await attempt(); codes.push('accepted'); } catch (e) { codes.push(e.code ?? (e.name + ': ' + e.message)); }
       }
       return codes;`,
    );
    expect(result).toEqual([
      "KV_INVALID_KEY",
      "KV_INVALID_KEY",
      "KV_INVALID_VALUE",
      "KV_INVALID_VALUE",
      "KV_INVALID_KEY",
      "KV_VALUE_TOO_LARGE",
      "KV_INVALID_CURSOR",
    ]);
  });

  it("NUL and lone surrogates cross the boundary exactly: such keys are refused, never truncated", async () => {
    const result = await run(
      "app-a",
      `const c = kv.collection('exact');
       await c.set('user', 'original');
       const codes = [];
       for (const attempt of [() => c.set('user\\u0000evil', 'x'), () => c.has('user\\u0000evil'), () => c.delete('user\\u0000evil'),
                              () => c.get('user\\u0000evil'), () => c.set('\\ud800', 1), () => c.get('a\\udc00b'),
                              () => kv.collection('t\\u0000x').get('k'), () => kv.collection('\\ud800').get('k'),
                              () => c.list({ prefix: 'a\\u0000' }), () => c.list({ prefix: '\\udfff' })]) {
         try { await attempt(); codes.push('accepted'); } catch (e) { codes.push(e.code ?? (e.name + ': ' + e.message)); }
       }
       return { codes, user: await c.get('user'), listed: (await c.list()).items.map((i) => i.key) };`,
    );
    expect(result).toEqual({
      codes: [
        "KV_INVALID_KEY",
        "KV_INVALID_KEY",
        "KV_INVALID_KEY",
        "KV_INVALID_KEY",
        "KV_INVALID_KEY",
        "KV_INVALID_KEY",
        "KV_INVALID_COLLECTION",
        "KV_INVALID_COLLECTION",
        "KV_INVALID_KEY",
        "KV_INVALID_KEY",
      ],
      user: "original",
      listed: ["user"],
    });
  });

  it("values are stored exactly or refused: a lone surrogate or NUL in a value is KV_INVALID_VALUE", async () => {
    const result = await run(
      "app-a",
      `const c = kv.collection('exact-values');
       const codes = [];
       for (const value of ['\\ud800', { s: 'a\\u0000b' }, ['x\\udc00']]) {
         try { await c.set('v', value); codes.push('accepted'); } catch (e) { codes.push(e.code); }
       }
       const fancy = 'é€😀\\u2028\\u007f\\u0001';
       await c.set('ключ😀', fancy);
       const back = await c.get('ключ😀');
       return { codes, same: back === fancy, units: back.length, keys: (await c.list()).items.map((i) => i.key) };`,
    );
    expect(result).toEqual({
      codes: ["KV_INVALID_VALUE", "KV_INVALID_VALUE", "KV_INVALID_VALUE"],
      same: true,
      units: 7,
      keys: ["ключ😀"],
    });
  });

  it("a cyclic value is KV_INVALID_VALUE, catchable", async () => {
    expect(
      await run(
        "app-a",
        "const a = {}; a.self = a; try { await kv.collection('c').set('k', a); return 'accepted'; } catch (e) { return { name: e.name, code: e.code }; }",
      ),
    ).toEqual({ name: "KvError", code: "KV_INVALID_VALUE" });
  });

  it("request bodies, results and logs keep NUL and lone surrogates exactly", async () => {
    const name = "exactecho";
    const deployed = await t.deploy(
      "app-a",
      name,
      "export default async function (ctx) { const s = ctx.request.body.s; console.log(s); return { s, units: [...s].map((c) => c.charCodeAt(0)) }; }",
    );
    expect(deployed.statusCode, deployed.body).toBe(201);
    const s = "a\u0000b\ud800c\udfff€😀";
    const response = await t.runtime.app.inject({
      method: "POST",
      url: `/app-a/${name}`,
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ s }),
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ s, units: [...s].map((c) => c.charCodeAt(0)) });
    const id = response.headers["x-picloud-invocation"] as string;
    // The record keeps the line; only what jsonb cannot hold (NUL, lone surrogates) becomes U+FFFD.
    const record = await t.api("GET", `/invocations/${id}`);
    expect(record.statusCode, record.body).toBe(200);
    expect(record.json().logs[0].message).toBe("a\ufffdb\ufffdc\ufffd€😀");
  });

  it("an uncaught SDK error fails the invocation with its code in the message", async () => {
    expect(await run("app-a", "await kv.collection('widgets').get('');")).toMatchObject({
      status: 500,
      error: { code: "SCRIPT_ERROR", message: expect.stringContaining("KV_INVALID_KEY") },
    });
  });

  it("list pages through a collection with a cursor over several pages", async () => {
    const result = await run(
      "app-a",
      `const c = kv.collection('paged');
       for (let i = 0; i < 12; i++) await c.set('key-' + String(i).padStart(2, '0'), i);
       const pages = [];
       let cursor = null;
       do {
         const page = await c.list({ limit: 5, cursor });
         pages.push(page.items.map((item) => item.key + '=' + item.value));
         cursor = page.cursor;
       } while (cursor);
       const pref = await c.list({ prefix: 'key-1' });
       return { pages, prefixed: pref.items.map((i) => i.key), end: pref.cursor };`,
    );
    expect(result).toEqual({
      pages: [
        ["key-00=0", "key-01=1", "key-02=2", "key-03=3", "key-04=4"],
        ["key-05=5", "key-06=6", "key-07=7", "key-08=8", "key-09=9"],
        ["key-10=10", "key-11=11"],
      ],
      prefixed: ["key-10", "key-11"],
      end: null,
    });
  });

  it("app B can never read or list app A's data through the bridge", async () => {
    await run("app-a", "await kv.collection('private').set('secret', 'a-only'); return null;");
    expect(
      await run(
        "app-b",
        `const c = kv.collection('private');
         return { get: await c.get('secret'), has: await c.has('secret'), list: (await c.list()).items.length, del: await c.delete('secret') };`,
      ),
    ).toEqual({ get: null, has: false, list: 0, del: false });
    expect(await run("app-a", "return await kv.collection('private').get('secret');")).toBe("a-only");
  });

  it("ctx.app comes from the host, and direct ingress has no event key", async () => {
    expect(await run("app-b", "return { app: ctx.app, hasEvent: 'event' in ctx, method: ctx.request.method };")).toEqual({
      app: "app-b",
      hasEvent: false,
      method: "GET",
    });
  });
});
