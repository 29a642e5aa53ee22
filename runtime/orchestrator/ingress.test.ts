// HTTP ingress: URL scheme, ctx.request, response mapping and its errors.
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";
import { ScriptCache } from "./script-cache.js";

let t: TestRuntime;
let base: string | undefined;
const socketUrl = async () => {
  base ??= await t.runtime.listen();
  return base;
};

async function deploy(name: string, source: string): Promise<void> {
  const response = await t.deploy("web", name, source);
  expect(response.statusCode, response.body).toBe(201);
}

beforeAll(async () => {
  t = await startTestRuntime({ flags: { bodyLimitBytes: 64 * 1024 } });
  await t.api("POST", "/apps", { id: "web" });
  await deploy("echo", "export default async function (ctx) { return ctx.request }");
});
afterAll(async () => {
  await t?.close();
});

describe("ctx.request", () => {
  it("carries method, path, sub-path, query, headers and a parsed JSON body", async () => {
    const response = await t.runtime.app.inject({
      method: "POST",
      url: "/web/echo/orders/42?tag=a&tag=b&q=x",
      headers: { "content-type": "application/json", "x-custom": "yes" },
      payload: JSON.stringify({ item: "book", qty: 2 }),
    });
    expect(response.statusCode).toBe(200);
    const request = response.json();
    expect(request).toMatchObject({
      method: "POST",
      path: "/web/echo/orders/42",
      subpath: "/orders/42",
      query: { tag: ["a", "b"], q: "x" },
      body: { item: "book", qty: 2 },
    });
    expect(request.headers["x-custom"]).toBe("yes");
  });

  it("gives text bodies as text, empty bodies as null, and serves any method at the bare path", async () => {
    const text = await t.runtime.app.inject({
      method: "PUT",
      url: "/web/echo",
      headers: { "content-type": "text/plain" },
      payload: "hello",
    });
    expect(text.json()).toMatchObject({ method: "PUT", subpath: "/", body: "hello" });
    const empty = await t.runtime.app.inject({ method: "DELETE", url: "/web/echo" });
    expect(empty.json()).toMatchObject({ method: "DELETE", body: null });
  });

  it("malformed JSON is a 400 and prototype poisoning is refused", async () => {
    const bad = await t.runtime.app.inject({
      method: "POST",
      url: "/web/echo",
      headers: { "content-type": "application/json" },
      payload: "{bad",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("INVALID_JSON");
    const poisoned = await t.runtime.app.inject({
      method: "POST",
      url: "/web/echo",
      headers: { "content-type": "application/json" },
      payload: '{"__proto__": {"admin": true}}',
    });
    expect(poisoned.statusCode).toBe(400);
  });

  it("an oversized body is a 413", async () => {
    const response = await t.runtime.app.inject({
      method: "POST",
      url: "/web/echo",
      headers: { "content-type": "text/plain" },
      payload: "x".repeat(65 * 1024),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe("BODY_TOO_LARGE");
  });
});

describe("response mapping", () => {
  const cases: [string, string, number, string, string | null][] = [
    ["plain-object", "return { a: 1 }", 200, "application/json; charset=utf-8", '{"a":1}'],
    ["plain-array", "return [1, 2]", 200, "application/json; charset=utf-8", "[1,2]"],
    ["plain-number", "return 7", 200, "application/json; charset=utf-8", "7"],
    ["plain-null", "return null", 200, "application/json; charset=utf-8", "null"],
    ["status-as-data", "return { status: 'shipped' }", 200, "application/json; charset=utf-8", '{"status":"shipped"}'],
    ["text", "return 'hi there'", 200, "text/plain; charset=utf-8", "hi there"],
    ["full", "return { status: 201, headers: { 'x-made': 'yes' }, body: { id: 9 } }", 201, "application/json; charset=utf-8", '{"id":9}'],
    ["full-text", "return { status: 418, body: 'teapot' }", 418, "text/plain; charset=utf-8", "teapot"],
    ["full-html", "return { status: 200, headers: { 'content-type': 'text/html' }, body: '<b>x</b>' }", 200, "text/html", "<b>x</b>"],
  ];
  it.each(cases)("%s", async (name, body, status, type, expected) => {
    await deploy(name, `export default async function () { ${body} }`);
    const response = await t.runtime.app.inject({ method: "GET", url: `/web/${name}` });
    expect(response.statusCode).toBe(status);
    expect(response.headers["content-type"]).toBe(type);
    expect(response.body).toBe(expected);
  });

  it("undefined becomes 204 and custom headers pass through", async () => {
    await deploy("nothing", "export default async function () {}");
    expect((await t.runtime.app.inject({ method: "GET", url: "/web/nothing" })).statusCode).toBe(204);
    await deploy("headers", "export default async function () { return { status: 302, headers: { Location: '/elsewhere' } } }");
    const redirect = await t.runtime.app.inject({ method: "GET", url: "/web/headers" });
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe("/elsewhere");
  });

  it.each([
    ["bad-status", "return { status: 99, body: 'x' }", "status"],
    ["bad-header", "return { status: 200, headers: { 'x-a': { no: 1 } } }", "x-a"],
    ["header-injection", "return { status: 200, headers: { 'x-a': 'v\\r\\nSet-Cookie: evil' } }", "invalid value"],
    ["bigint", "return 10n", "serialised"],
  ])("a bad shape (%s) is a 500 naming the problem", async (name, body, mention) => {
    await deploy(name, `export default async function () { ${body} }`);
    const response = await t.runtime.app.inject({ method: "GET", url: `/web/${name}` });
    expect(response.statusCode).toBe(500);
    expect(response.json().error.code).toBe("SCRIPT_BAD_RESPONSE");
    expect(response.json().error.message).toContain(mention);
    // The invocation record says the same: a response that could not be sent is a failure.
    const record = (await t.api("GET", `/invocations/${response.json().error.invocation}`)).json();
    expect(record).toMatchObject({ status: "error", error: { code: "SCRIPT_BAD_RESPONSE" } });
  });
});

describe("routing", () => {
  it("unknown apps and scripts are 404 JSON errors", async () => {
    for (const url of ["/nope/echo", "/web/nope", "/web/nope/deeper"]) {
      const response = await t.runtime.app.inject({ method: "GET", url });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe("SCRIPT_NOT_FOUND");
    }
    const root = await t.runtime.app.inject({ method: "GET", url: "/just-one-segment" });
    expect(root.statusCode).toBe(404);
    expect(root.json().error.code).toBe("NOT_FOUND");
  });

  it("the endpoint exists the moment the deploy call returns, and serves the newest version", async () => {
    for (let v = 1; v <= 3; v++) {
      await deploy("fresh", `export default async function () { return ${v} }`);
      expect((await t.runtime.app.inject({ method: "GET", url: "/web/fresh" })).json()).toBe(v);
    }
  });

  it("an endpoint asked for before it exists serves the moment it is deployed, and 404s again once deleted", async () => {
    const get = () => t.runtime.app.inject({ method: "GET", url: "/web/later" });
    // Remembered as unknown: repeated requests to it cost no database lookup each.
    for (let i = 0; i < 3; i++) expect((await get()).json().error.code).toBe("SCRIPT_NOT_FOUND");
    await deploy("later", "export default async function () { return 'here' }");
    expect((await get()).body).toBe("here");
    expect((await t.api("DELETE", "/apps/web/scripts/later")).statusCode).toBe(204);
    expect((await get()).json().error.code).toBe("SCRIPT_NOT_FOUND");
    await deploy("later", "export default async function () { return 'back' }");
    expect((await get()).body).toBe("back");
  });

  it("an app key, when set, is required", async () => {
    await t.api("POST", "/apps", { id: "locked", settings: { appKey: "k".repeat(24) } });
    expect((await t.deploy("locked", "door", "export default async function () { return 'open' }")).statusCode).toBe(201);
    const denied = await t.runtime.app.inject({ method: "GET", url: "/locked/door" });
    expect(denied.statusCode).toBe(401);
    expect(denied.json().error.code).toBe("APP_KEY_REQUIRED");
    const wrong = await t.runtime.app.inject({ method: "GET", url: "/locked/door", headers: { "x-picloud-app-key": "w".repeat(24) } });
    expect(wrong.statusCode).toBe(401);
    const allowed = await t.runtime.app.inject({ method: "GET", url: "/locked/door", headers: { "x-picloud-app-key": "k".repeat(24) } });
    expect(allowed.body).toBe("open");
  });

  it("every answer of a script endpoint, errors included, names the node and is sandboxed and never sniffed", async () => {
    await deploy("fails", "export default async function () { throw new Error('no') }");
    await t.api("POST", "/apps", { id: "guarded", settings: { appKey: "g".repeat(24) } });
    expect((await t.deploy("guarded", "door", "export default async function () { return 'open' }")).statusCode).toBe(201);
    const answers = await Promise.all([
      t.runtime.app.inject({ method: "GET", url: "/web/echo" }),
      t.runtime.app.inject({ method: "GET", url: "/web/fails" }),
      t.runtime.app.inject({ method: "GET", url: "/web/nope" }),
      t.runtime.app.inject({ method: "GET", url: "/guarded/door" }),
      t.runtime.app.inject({ method: "POST", url: "/web/echo", headers: { "content-type": "application/json" }, payload: "{" }),
      t.runtime.app.inject({ method: "POST", url: "/web/echo", headers: { "content-type": "text/plain" }, payload: "x".repeat(65 * 1024) }),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 500, 404, 401, 400, 413]);
    for (const answer of answers) {
      expect(answer.headers["x-picloud-node"], answer.body).toEqual(expect.any(String));
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
      expect(answer.headers["content-security-policy"]).toMatch(/^sandbox\b/);
    }
  });

  it("ingress works over a real socket", async () => {
    const url = await socketUrl();
    const response = await fetch(`${url}/web/text`);
    expect(await response.text()).toBe("hi there");
    expect(response.headers.get("x-picloud-invocation")).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("the fast path in front of fastify", () => {
  /** What may differ between two answers to the same request: the run's id, timing and whether it was sampled for a full record, the date, the connection. */
  const VARYING = new Set(["date", "x-picloud-invocation", "x-picloud-record", "server-timing", "connection", "keep-alive"]);
  const comparable = (status: number, headers: Record<string, unknown>, body: string) => ({
    status,
    headers: Object.fromEntries(Object.entries(headers).filter(([name]) => !VARYING.has(name))),
    body: body.replace(/"invocation":"[0-9a-f]{32}"/, '"invocation":"…"'),
  });

  it("answers over a socket exactly as fastify's route does, and hands fastify what it does not write itself", async () => {
    await deploy("shape", "export default async function (ctx) { const { headers, ...rest } = ctx.request; return rest }");
    await deploy("silent", "export default async function () {}");
    await deploy("thrower", "export default async function () { throw new Error('no') }");
    await deploy(
      "custom",
      "export default async function () { return { status: 201, headers: { 'x-made': 'yes', 'set-cookie': 'a=b' }, body: { id: 9 } } }",
    );
    await deploy(
      "typed",
      "export default async function () { return { status: 200, headers: { 'content-type': 'application/json' }, body: 'plain' } }",
    );
    await deploy("empty", "export default async function () { return { status: 200 } }");
    await deploy("lines", "export default async function () { return 'two\\nlines' }");
    await t.api("POST", "/apps", { id: "open", settings: { browserSandbox: false } });
    expect((await t.deploy("open", "page", "export default async function () { return 'unsandboxed' }")).statusCode).toBe(201);
    await t.api("POST", "/apps", { id: "keyed", settings: { appKey: "q".repeat(24) } });
    expect((await t.deploy("keyed", "door", "export default async function () { return 'open' }")).statusCode).toBe(201);
    const key = { "x-picloud-app-key": "q".repeat(24) };
    const requests: { method: "GET" | "HEAD"; url: string; headers?: Record<string, string> }[] = [
      { method: "GET", url: "/web/shape" },
      { method: "GET", url: "/web/shape/orders/42/" },
      { method: "GET", url: "/web/shape/a.b/c~d/e-f_g" },
      { method: "GET", url: "/web/shape?tag=a&tag=b" },
      { method: "GET", url: "/web/shape/%7Euser?q=%2F" },
      { method: "HEAD", url: "/web/shape/x" },
      { method: "GET", url: "/web/silent" },
      { method: "HEAD", url: "/web/silent" },
      { method: "GET", url: "/web/thrower" },
      { method: "GET", url: "/web/custom" },
      { method: "GET", url: "/web/typed" },
      { method: "GET", url: "/web/empty" },
      { method: "HEAD", url: "/web/empty" },
      { method: "GET", url: "/web/lines" },
      { method: "GET", url: "/open/page" },
      { method: "GET", url: "/keyed/door", headers: key },
      { method: "GET", url: "/keyed/door?x=1", headers: key },
      { method: "GET", url: "/keyed/door" },
      { method: "GET", url: "/web/nope" },
    ];
    const base = await socketUrl();
    const peek = vi.spyOn(ScriptCache.prototype, "peek");
    try {
      for (const request of requests) {
        const viaFastify = await t.runtime.app.inject(request);
        peek.mockClear();
        const response = await fetch(`${base}${request.url}`, { method: request.method, headers: request.headers ?? {} });
        const body = await response.text();
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          headers[name] = value;
        });
        const label = `${request.method} ${request.url}`;
        expect(comparable(response.status, headers, body), label).toEqual(
          comparable(viaFastify.statusCode, viaFastify.headers as Record<string, unknown>, viaFastify.body),
        );
        expect(headers["x-picloud-node"], label).toEqual(expect.any(String));
        // URLs the router gives the ingress route, to cached scripts, were found by the fast path (which
        // leaves a missing app key to fastify's 401); the others never got that far.
        const found = !request.url.startsWith("/web/nope");
        expect(
          peek.mock.results.some((result) => result.value !== undefined),
          label,
        ).toBe(found);
      }
    } finally {
      peek.mockRestore();
    }
  });

  /** `answer()` with the fast path finding no script in the cache: fastify's route answers from the start. */
  const fastifyOnly = async <T>(answer: () => Promise<T>): Promise<T> => {
    const peek = vi.spyOn(ScriptCache.prototype, "peek").mockReturnValue(undefined);
    try {
      return await answer();
    } finally {
      peek.mockRestore();
    }
  };

  it("writes Response objects and scripts' own headers byte for byte as fastify does: same headers, same order", async () => {
    /** Status, header lines in order (less the varying ones) and body, as a socket carries them. */
    const raw = (url: string, method: string) =>
      new Promise<{ status: number; headers: string[]; body: string }>((resolve, reject) => {
        const request = httpRequest(url, { method, agent: false }, (response) => {
          let body = "";
          response.setEncoding("latin1");
          response.on("data", (chunk) => (body += chunk));
          response.on("end", () => {
            const headers: string[] = [];
            for (let i = 0; i < response.rawHeaders.length; i += 2) {
              const name = (response.rawHeaders[i] as string).toLowerCase();
              if (!VARYING.has(name)) headers.push(`${name}: ${response.rawHeaders[i + 1]}`);
            }
            resolve({ status: response.statusCode ?? 0, headers, body: body.replace(/"invocation":"[0-9a-f]{32}"/, '"invocation":"…"') });
          });
        });
        request.on("error", reject);
        request.end();
      });
    const shapes: Record<string, string> = {
      "r-json": "export default { async fetch() { return Response.json({ message: 'Hello, world!' }) } }",
      "r-text": "export default { fetch: () => new Response('h\u00e9llo') }",
      "r-own": `export default { fetch: () => new Response('x', { status: 201, headers: {
        'x-b': '2', 'X-A': '1', 'set-cookie': 'a=b', 'content-security-policy': "default-src 'none'", 'x-picloud-node': 'fake',
        'x-content-type-options': 'sniff', 'x-picloud-invocation': 'mine', 'content-type': 'text/html; charset=utf-8' } }) }`,
      "r-bytes": "export default { fetch: () => new Response(new Uint8Array([1, 2, 255])) }",
      "r-bytes-typed": "export default { fetch: () => new Response(new Uint8Array([1]), { headers: { 'content-type': 'image/png' } }) }",
      "r-bytes-json":
        "export default { fetch: () => new Response(new TextEncoder().encode('{\"a\":1}'), { headers: { 'content-type': 'application/json' } }) }",
      "r-null": "export default { fetch: () => new Response(null, { headers: { 'x-n': '1' } }) }",
      "r-null-204": "export default { fetch: () => new Response(null, { status: 204, headers: { 'content-type': 'text/html' } }) }",
      "r-problem": "export default { fetch: () => new Response('{}', { headers: { 'content-type': 'application/problem+json' } }) }",
      "r-redirect": "export default { fetch: () => Response.redirect('https://example.com/x', 308) }",
      "o-own":
        "export default async function () { return { status: 202, headers: { 'x-made': 'yes', 'content-type': 'text/csv' }, body: 'a,b' } }",
      "o-empty": "export default async function () { return { status: 200, headers: { 'x-e': '1' } } }",
      "o-bad": "export default async function () { return { status: 200, headers: { 'x-a': '\u0001' }, body: 'x' } }",
    };
    for (const [name, source] of Object.entries(shapes)) await deploy(name, source);
    await t.api("POST", "/apps", { id: "open-r", settings: { browserSandbox: false } });
    expect((await t.deploy("open-r", "own", shapes["r-own"] as string)).statusCode).toBe(201);
    const base = await socketUrl();
    const urls = [...Object.keys(shapes).map((name) => `/web/${name}`), "/open-r/own"];
    for (const path of urls) {
      for (const method of ["GET", "HEAD"]) {
        await raw(`${base}${path}`, method); // cached: the fast path takes the next one
        const fast = await raw(`${base}${path}`, method);
        const viaFastify = await fastifyOnly(() => raw(`${base}${path}`, method));
        expect(fast, `${method} ${path}`).toEqual(viaFastify);
      }
    }
  });

  it("gives scripts the URL, path, sub-path and query fastify's route gives them, for every URL shape", async () => {
    /** One request written byte for byte on a socket (no client normalises the target): status line, header lines in order less the varying ones, body. */
    const rawTarget = (target: string, method: string) =>
      new Promise<string>((resolve, reject) => {
        const { hostname, port } = new URL(base as string);
        const socket = connect(Number(port), hostname);
        const chunks: Buffer[] = [];
        socket.on("data", (chunk: Buffer) => chunks.push(chunk));
        socket.on("error", reject);
        socket.on("end", () => {
          const text = Buffer.concat(chunks).toString("latin1");
          const [head = "", ...body] = text.split("\r\n\r\n");
          const [status, ...lines] = head.split("\r\n");
          const kept = lines.filter((line) => !VARYING.has(line.slice(0, line.indexOf(":")).toLowerCase()));
          resolve([status, ...kept, "", body.join("\r\n\r\n").replace(/"invocation":"[0-9a-f]{32}"/, '"invocation":"…"')].join("\n"));
        });
        // The target as UTF-8 bytes (raw unicode included), as a client that does not encode it sends it;
        // the server closes the connection after its answer (ending the socket here would abort the request).
        socket.write(Buffer.from(`${method} ${target} HTTP/1.1\r\nhost: picloud.test\r\nconnection: close\r\n\r\n`, "utf8"));
      });
    // What each script saw, in the body and (for HEAD) in a header.
    await deploy(
      "seen",
      `export default async function (ctx) {
        const { headers, ...seen } = ctx.request;
        const q = ctx.request.query;
        const proto = Object.getPrototypeOf(q);
        seen.queryKeys = Object.keys(q);
        seen.queryProto = proto === null ? "null" : proto === Object.prototype ? "Object" : "other";
        seen.polluted = ({}).polluted ?? null;
        return { status: 200, headers: { "x-seen": encodeURIComponent(JSON.stringify(seen)) }, body: seen };
      }`,
    );
    await deploy(
      "seen-w",
      `export default { fetch(request) {
        let seen;
        try {
          const u = new URL(request.url);
          seen = { url: request.url, method: request.method, pathname: u.pathname, search: u.search, hash: u.hash, params: [...u.searchParams] };
        } catch (error) {
          seen = { url: request.url, error: String(error) };
        }
        return Response.json(seen, { headers: { "x-seen": encodeURIComponent(JSON.stringify(seen)) } });
      } }`,
    );
    await socketUrl();
    const shapes: [target: string, fast: boolean][] = [
      ["?q=x&page=2", true],
      ["?tag=a&tag=b&tag=c&tag=", true],
      ["?a+b=c+d&e=%20f&g=%2B", true],
      ["?empty=&novalue&=x&&&", true],
      ["?", true],
      ["/?", true],
      ["??x=1", true],
      ["?q=a%26b%3Dc&r=%3F%23", true],
      ["/a%2Fb/c?x=%2F&y=/", true],
      ["/%7Euser/%41%42/%25/%2525", true],
      ["?x=%zz&y=%&z=%E2%82%AC&w=%E2%82&v=%C3%28", true],
      ["#frag", true],
      ["?x=1#frag", true],
      ["/deep#a?b=c", true],
      ["?__proto__=x&constructor=y&toString=z&hasOwnProperty=w&__proto__=v", true],
      ["?__proto__[polluted]=1&a[b]=c&constructor[prototype][polluted]=1&polluted=no", true],
      ["/\u00e9/\u20ac?q=\u00e9\u20ac&\u{1f600}=1", false], // raw UTF-8 bytes: Node's parser refuses them (400 BAD_REQUEST)
      ["/%C3%A9?q=%E2%82%AC&%F0%9F%98%80=1", true],
      [`?q=${"x".repeat(8000)}`, true],
      [`/${"a".repeat(3000)}?x=1`, true],
      [";x=1?y=2", false], // no script "seen;x=1" (";" delimits nothing): fastify's 404
      ["/p;x=1?y=2", true],
      ["//double/?x=1", true],
      ["/%zz?x=1", false], // percent-encoding decodeURI refuses: FST_ERR_BAD_URL, fastify's
      ["/%", false],
      ["/%E2%82", false],
    ];
    // By name: a percent-encoded app or script name and an absolute-form target (not the route's shape
    // as written: fastify's), the wrong case, an overlong name (maxParamLength).
    const named: [target: string, fast: boolean][] = [
      ["/w%65b/seen?x=1", false],
      ["/web/se%65n/x?y=%41", false],
      ["/WEB/seen?x=1", false],
      [`/web/${"s".repeat(1100)}?x=1`, false],
      ["http://picloud.test/web/seen?absolute=1", false],
    ];
    const targets: [string, boolean][] = [
      ...["seen", "seen-w"].flatMap((script) => shapes.map(([suffix, fast]): [string, boolean] => [`/web/${script}${suffix}`, fast])),
      ...named,
    ];
    for (const [target, fast] of targets) {
      for (const method of ["GET", "HEAD"]) {
        const label = `${method} ${target.slice(0, 80)}`;
        await rawTarget(target, method); // cached: the fast path may take the next one
        const peek = vi.spyOn(ScriptCache.prototype, "peek");
        let viaFastPath: string;
        try {
          viaFastPath = await rawTarget(target, method);
          expect(
            peek.mock.results.some((result) => result.value !== undefined),
            `${label}: ${viaFastPath.slice(0, 300)}`,
          ).toBe(fast);
        } finally {
          peek.mockRestore();
        }
        const viaFastify = await fastifyOnly(() => rawTarget(target, method));
        expect(viaFastPath, label).toBe(viaFastify);
        expect(viaFastPath, label).toMatch(/^HTTP\/1\.1 \d{3} /);
      }
    }
    // What the scripts saw, spelled out for a few shapes.
    const seen = async (target: string) =>
      JSON.parse(Buffer.from((await rawTarget(target, "GET")).split("\n\n").slice(1).join("\n\n"), "latin1").toString("utf8"));
    expect(await seen("/web/seen/a%2Fb?tag=a&tag=b&e=&p=a+b&__proto__=x")).toMatchObject({
      path: "/web/seen/a%2Fb",
      subpath: "/a/b",
      url: "/web/seen/a%2Fb?tag=a&tag=b&e=&p=a+b&__proto__=x",
      query: { tag: ["a", "b"], e: "", p: "a b", ["__proto__"]: "x" },
      queryKeys: ["tag", "e", "p", "__proto__"],
      polluted: null,
    });
    expect(await seen("/web/seen-w/x?q=%E2%82%AC&q=2")).toEqual({
      url: "http://picloud.test/web/seen-w/x?q=%E2%82%AC&q=2",
      method: "GET",
      pathname: "/web/seen-w/x",
      search: "?q=%E2%82%AC&q=2",
      hash: "",
      params: [
        ["q", "\u20ac"],
        ["q", "2"],
      ],
    });
    expect((await rawTarget("/web/seen/%zz", "GET")).split("\n")[0]).toBe("HTTP/1.1 400 Bad Request");
  });

  it("a fast path that fails before taking a request leaves it to fastify", async () => {
    const url = await socketUrl();
    expect(await (await fetch(`${url}/web/text`)).text()).toBe("hi there"); // cached: the fast path would take it
    const peek = vi.spyOn(ScriptCache.prototype, "peek").mockImplementation(() => {
      throw new Error("fast path broke");
    });
    try {
      const response = await fetch(`${url}/web/text`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("hi there");
      expect(peek).toHaveBeenCalled();
    } finally {
      peek.mockRestore();
    }
  });

  it("a run the pool refuses on the fast path gets fastify's answer: 503 OVERLOADED with retry-after", async () => {
    await t.api("POST", "/apps", { id: "busy-fast", settings: { limits: { concurrency: 1, queue: 0, cpuMs: 5_000 } } });
    const source = "export default async function () { const end = Date.now() + 300; while (Date.now() < end) {} return 'done' }";
    expect((await t.deploy("busy-fast", "burn", source)).statusCode).toBe(201);
    const url = await socketUrl();
    expect(await (await fetch(`${url}/busy-fast/burn`)).text()).toBe("done"); // cached now: the fast path takes the rest
    const responses = await Promise.all(Array.from({ length: 3 }, () => fetch(`${url}/busy-fast/burn`)));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 503, 503]);
    for (const response of responses.filter((r) => r.status === 503)) {
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(response.headers.get("content-security-policy")).toMatch(/^sandbox\b/);
      expect(response.headers.get("x-picloud-node")).toEqual(expect.any(String));
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("OVERLOADED");
    }
  });
});

describe("responses a socket cannot carry", () => {
  it.each([
    ["ctl", "'a\\u0001b'"],
    ["line-separator", "'\\u2028'"],
    ["del", "'a\\u007fb'"],
    ["above-latin1", "'\\u20ac'"],
    ["nul", "'a\\u0000'"],
  ])("a header value with %s is SCRIPT_BAD_RESPONSE with the invocation header, recorded as failed", async (name, value) => {
    await deploy(`hdr-${name}`, `export default async function () { return { status: 200, headers: { 'x-a': ${value} }, body: 'x' } }`);
    const response = await fetch(`${await socketUrl()}/web/hdr-${name}`);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; invocation: string } };
    expect(body.error.code).toBe("SCRIPT_BAD_RESPONSE");
    expect(response.headers.get("x-picloud-invocation")).toBe(body.error.invocation);
    const record = (await t.api("GET", `/invocations/${body.error.invocation}`)).json();
    expect(record).toMatchObject({ status: "error", error: { code: "SCRIPT_BAD_RESPONSE" } });
  });

  it("a header name outside the RFC 9110 token is SCRIPT_BAD_RESPONSE; tabs, spaces and Latin-1 in values pass", async () => {
    await deploy("hdr-name", "export default async function () { return { status: 200, headers: { 'x a': 'v' } } }");
    const bad = await fetch(`${await socketUrl()}/web/hdr-name`);
    expect(bad.status).toBe(500);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("SCRIPT_BAD_RESPONSE");
    await deploy(
      "hdr-ok",
      "export default async function () { return { status: 200, headers: { 'x-a': ' one\\ttwo  three ', 'x-b': 7 }, body: 'ok' } }",
    );
    const ok = await fetch(`${await socketUrl()}/web/hdr-ok`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-a")).toBe("one\ttwo  three");
    expect(ok.headers.get("x-b")).toBe("7");
  });

  it("the response size limit counts UTF-8 bytes, not UTF-16 units", async () => {
    await t.api("POST", "/apps", { id: "small", settings: { limits: { responseBytes: 1024 } } });
    for (const [name, count] of [
      ["euros-over", 400],
      ["euros-under", 300],
    ] as const) {
      const deployed = await t.deploy("small", name, `export default async function () { return '€'.repeat(${count}) }`);
      expect(deployed.statusCode, deployed.body).toBe(201);
    }
    const over = await t.runtime.app.inject({ method: "GET", url: "/small/euros-over" });
    expect(over.statusCode).toBe(500);
    expect(over.json().error.code).toBe("SCRIPT_RESPONSE_TOO_LARGE");
    expect(over.json().error.message).toContain("1202 bytes");
    const under = await t.runtime.app.inject({ method: "GET", url: "/small/euros-under" });
    expect(under.statusCode).toBe(200);
    expect(Buffer.byteLength(under.body)).toBe(900);
  });
});

describe("JSON bodies", () => {
  it("a body nested 30,000 deep is 400 INVALID_JSON and leaves nothing held in the executor", async () => {
    const deep = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    const response = await t.runtime.app.inject({
      method: "POST",
      url: "/web/echo",
      headers: { "content-type": "application/json" },
      payload: deep,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe("INVALID_JSON");
    const pool = t.runtime.services.executor as unknown as { stats(): { queued: number; inFlight: number; watchdogsArmed: number } };
    expect(pool.stats()).toEqual({ queued: 0, inFlight: 0, watchdogsArmed: 0 });
    // Nesting within the bound, in strings or not, is fine.
    const ok = `{"s":"${"[".repeat(1000)}","v":${"[".repeat(100)}1${"]".repeat(100)}}`;
    const echoed = await t.runtime.app.inject({
      method: "POST",
      url: "/web/echo",
      headers: { "content-type": "application/json" },
      payload: ok,
    });
    expect(echoed.statusCode, echoed.body).toBe(200);
    expect(echoed.json().body).toEqual(JSON.parse(ok));
  });
});

describe("overload", () => {
  it("a full queue answers 503 OVERLOADED with retry-after; served runs report their queue time apart", async () => {
    await t.api("POST", "/apps", { id: "busy", settings: { limits: { concurrency: 1, queue: 0, cpuMs: 5_000 } } });
    const deployed = await t.deploy(
      "busy",
      "burn",
      "export default async function () { const end = Date.now() + 300; while (Date.now() < end) {} return 'done' }",
    );
    expect(deployed.statusCode, deployed.body).toBe(201);
    const url = await socketUrl();
    const responses = await Promise.all(Array.from({ length: 3 }, () => fetch(`${url}/busy/burn`)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 503, 503]);
    for (const response of responses) {
      if (response.status === 200) {
        expect(response.headers.get("server-timing")).toMatch(/^queue;dur=[\d.]+, run;dur=[\d.]+$/);
        continue;
      }
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(response.headers.get("content-security-policy")).toMatch(/^sandbox\b/);
      expect(response.headers.get("x-picloud-node")).toEqual(expect.any(String));
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("OVERLOADED");
      // What matters to the caller: the app's limits, what it is doing, when to retry.
      expect(body.error.message).toMatch(
        new RegExp(
          `^App 'busy' runs at most 1 invocation at a time and queues none \\(its concurrency and queue limits\\): 1 running, 0 waiting; retry after ${response.headers.get("retry-after")} s\\.$`,
        ),
      );
    }
  });
});
