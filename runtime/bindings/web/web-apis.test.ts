// The web-standard APIs inside the sandbox, checked against known vectors (RFC 4231 for HMAC,
// FIPS 180 for SHA, WHATWG URL and Encoding cases), and the Workers module style end to end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../../testing/runtime.js";

let t: TestRuntime;

/** Deploys `body` as a plain handler of app `app` and returns what it returned (JSON), or the error. */
async function run(body: string, app = "web"): Promise<unknown> {
  const name = `s${Math.random().toString(36).slice(2, 10)}`;
  const deployed = await t.deploy(app, name, `export default async function (ctx) {\n${body}\n}`);
  expect(deployed.statusCode, deployed.body).toBe(201);
  const response = await t.runtime.app.inject({ method: "GET", url: `/${app}/${name}` });
  return response.json();
}

beforeAll(async () => {
  t = await startTestRuntime({ flags: { limits: { wallMs: 2_000 } } });
  await t.api("POST", "/apps", { id: "web" });
  await t.api("POST", "/apps", { id: "other" });
  await t.api("POST", "/apps", { id: "webstrict", settings: { strict: true } });
});
afterAll(async () => {
  await t?.close();
});

const hex = `const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");`;

describe("crypto", () => {
  it("HMAC sign and verify match RFC 4231 test cases 1 and 2", async () => {
    const result = await run(`${hex}
      const enc = new TextEncoder();
      const k1 = await crypto.subtle.importKey("raw", new Uint8Array(20).fill(0x0b), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
      const k1b = await crypto.subtle.importKey("raw", new Uint8Array(20).fill(0x0b), { name: "HMAC", hash: { name: "SHA-512" } }, false, ["sign"]);
      const k2 = await crypto.subtle.importKey("raw", enc.encode("Jefe"), { name: "HMAC", hash: "SHA-384" }, false, ["sign", "verify"]);
      const k2b = await crypto.subtle.importKey("raw", enc.encode("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
      const data2 = enc.encode("what do ya want for nothing?");
      const s2 = await crypto.subtle.sign("HMAC", k2b, data2);
      return {
        c1sha256: hex(await crypto.subtle.sign("HMAC", k1, enc.encode("Hi There"))),
        c1sha512: hex(await crypto.subtle.sign({ name: "HMAC" }, k1b, enc.encode("Hi There"))),
        c2sha384: hex(await crypto.subtle.sign("HMAC", k2, data2)),
        c2sha256: hex(s2),
        verifies: await crypto.subtle.verify("HMAC", k2b, s2, data2),
        tampered: await crypto.subtle.verify("HMAC", k2b, s2, enc.encode("what do ya want for nothing!")),
      };`);
    expect(result).toEqual({
      c1sha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      c1sha512:
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
      c2sha384: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
      c2sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      verifies: true,
      tampered: false,
    });
  });

  it("digest gives the FIPS 180 vectors for 'abc'", async () => {
    const result = await run(`${hex}
      const abc = new TextEncoder().encode("abc");
      return [hex(await crypto.subtle.digest("SHA-256", abc)), hex(await crypto.subtle.digest({ name: "SHA-384" }, abc.buffer)), (await crypto.subtle.digest("SHA-512", abc)).byteLength];`);
    expect(result).toEqual([
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
      64,
    ]);
  });

  it("getRandomValues fills typed arrays, randomUUID gives v4 UUIDs, bad input is refused", async () => {
    const result = (await run(`
      const a = crypto.getRandomValues(new Uint8Array(32));
      const b = crypto.getRandomValues(new Uint32Array(4));
      let quota = null, type = null;
      try { crypto.getRandomValues(new Uint8Array(65537)); } catch (e) { quota = e.name; }
      try { crypto.getRandomValues(new Float64Array(2)); } catch (e) { type = e.name; }
      return { a: a.length, nonzero: a.some((x) => x !== 0), b: b.length, uuid: crypto.randomUUID(), quota, type };`)) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({ a: 32, nonzero: true, b: 4, quota: "QuotaExceededError", type: "TypeMismatchError" });
    expect(result.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("an unsupported hash is a NotSupportedError", async () => {
    expect(await run(`try { await crypto.subtle.digest("MD5", new Uint8Array(1)); } catch (e) { return [e.name, e.code]; }`)).toEqual([
      "NotSupportedError",
      "CRYPTO_UNSUPPORTED",
    ]);
  });
});

describe("URL and URLSearchParams", () => {
  it("parse, resolve and serialise like the WHATWG URL standard", async () => {
    const result = await run(`
      const u = new URL("HTTPS://EXAMPLE.com:443/a/./b/../c?x=1#frag");
      const hostile = new URL("http://0x7f000001:8080/");
      const idn = new URL("http://münchen.de/straße");
      const rel = new URL("../d?y", "http://h/a/b/c");
      let invalid = null;
      try { new URL("http://[::1"); } catch (e) { invalid = e.name; }
      return {
        href: u.href, origin: u.origin, host: u.host, pathname: u.pathname, search: u.search, hash: u.hash,
        hostile: hostile.hostname, port: hostile.port, idn: idn.hostname, path: idn.pathname, rel: rel.href,
        invalid, canParse: [URL.canParse("nope"), URL.canParse("/x", "http://h")], json: JSON.stringify({ u: new URL("http://a/") }),
      };`);
    expect(result).toEqual({
      href: "https://example.com/a/c?x=1#frag",
      origin: "https://example.com",
      host: "example.com",
      pathname: "/a/c",
      search: "?x=1",
      hash: "#frag",
      hostile: "127.0.0.1",
      port: "8080",
      idn: "xn--mnchen-3ya.de",
      path: "/stra%C3%9Fe",
      rel: "http://h/a/d?y",
      invalid: "TypeError",
      canParse: [false, true],
      json: '{"u":"http://a/"}',
    });
  });

  it("setters and searchParams stay in sync with href", async () => {
    const result = await run(`
      const u = new URL("http://h/p?a=1");
      u.pathname = "/x y";
      u.searchParams.append("b", "c d&e");
      const afterAppend = u.href;
      u.search = "?z=9";
      return [afterAppend, u.searchParams.get("z"), u.searchParams.get("a"), u.href];`);
    expect(result).toEqual(["http://h/x%20y?a=1&b=c+d%26e", "9", null, "http://h/x%20y?z=9"]);
  });

  it("URLSearchParams parses and serialises application/x-www-form-urlencoded", async () => {
    const result = await run(`
      const p = new URLSearchParams("?a=1&b=%20+c&a=2&%E2%82%AC=%zz");
      const q = new URLSearchParams({ q: "a b&c", "é": "~*" });
      const s = new URLSearchParams([["z", "1"], ["a", "2"], ["z", "0"]]);
      s.sort();
      return { all: p.getAll("a"), b: p.get("b"), euro: p.get("€"), has: p.has("a", "2"), q: q.toString(), sorted: s.toString(), size: p.size, entries: [...new URLSearchParams("x=1&y")] };`);
    expect(result).toEqual({
      all: ["1", "2"],
      b: "  c",
      euro: "%zz",
      has: true,
      q: "q=a+b%26c&%C3%A9=%7E*",
      sorted: "a=2&z=1&z=0",
      size: 4,
      entries: [
        ["x", "1"],
        ["y", ""],
      ],
    });
  });
});

describe("encoding", () => {
  it("TextEncoder and TextDecoder follow the Encoding standard (lone surrogates, invalid bytes, BOM, fatal)", async () => {
    const result = await run(`
      const enc = new TextEncoder();
      const dec = new TextDecoder();
      let fatal = null;
      try { new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xc3, 0x28])); } catch (e) { fatal = e.name; }
      const into = new Uint8Array(4);
      return {
        euro: Array.from(enc.encode("€")), lone: Array.from(enc.encode("a\\ud800b")), emoji: dec.decode(new Uint8Array([0xf0, 0x9f, 0x98, 0x80])),
        invalid: dec.decode(new Uint8Array([0xc3, 0x28, 0xe2, 0x82, 0xff, 0x41])), bom: dec.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69])),
        fatal, into: enc.encodeInto("a€b", into), intoBytes: Array.from(into), encoding: dec.encoding,
      };`);
    expect(result).toEqual({
      euro: [226, 130, 172],
      lone: [97, 239, 191, 189, 98],
      emoji: "😀",
      invalid: "\ufffd(\ufffd\ufffdA",
      bom: "hi",
      fatal: "TypeError",
      into: { read: 2, written: 4 },
      intoBytes: [97, 226, 130, 172],
      encoding: "utf-8",
    });
  });

  it("atob and btoa are forgiving base64 and refuse non-Latin-1", async () => {
    const result = await run(`
      let bad = null, malformed = null;
      try { btoa("€"); } catch (e) { bad = e.name; }
      try { atob("a"); } catch (e) { malformed = e.name; }
      return [btoa("hello"), btoa("\\u00ff\\u0000"), atob("aGVsbG8"), atob(" aGVs bG8= "), bad, malformed];`);
    expect(result).toEqual(["aGVsbG8=", "/wA=", "hello", "hello", "InvalidCharacterError", "InvalidCharacterError"]);
  });
});

describe("structuredClone, Headers, timers", () => {
  it("structuredClone keeps cycles, Maps, Dates and typed arrays, and refuses functions", async () => {
    const result = await run(`
      const a = { d: new Date(5), m: new Map([["k", new Set([1])]]), bytes: new Uint8Array([1, 2]) };
      a.self = a;
      const c = structuredClone(a);
      let fn = null;
      try { structuredClone({ f() {} }); } catch (e) { fn = e.name; }
      return [c !== a, c.self === c, c.d.getTime(), c.m.get("k").has(1), Array.from(c.bytes), c.bytes.buffer !== a.bytes.buffer, fn];`);
    expect(result).toEqual([true, true, 5, true, [1, 2], true, "DataCloneError"]);
  });

  it("Headers are case-insensitive, combined and sorted", async () => {
    const result = await run(`
      const h = new Headers({ "X-B": "1", "x-a": " 2 " });
      h.append("X-B", "3");
      let bad = null;
      try { h.set("bad name", "x"); } catch (e) { bad = e.name; }
      return [h.get("x-b"), h.get("X-A"), [...h], h.has("X-a"), bad];`);
    expect(result).toEqual([
      "1, 3",
      "2",
      [
        ["x-a", "2"],
        ["x-b", "1, 3"],
      ],
      true,
      "TypeError",
    ]);
  });

  it("setTimeout fires in order, clearTimeout cancels, and a timer past the wall limit ends the invocation", async () => {
    expect(
      await run(`
        const seen = [];
        await new Promise((resolve) => {
          setTimeout(() => seen.push("b"), 30);
          const c = setTimeout(() => seen.push("never"), 10);
          setTimeout(() => seen.push("a"), 5);
          clearTimeout(c);
          setTimeout(resolve, 60);
        });
        return seen;`),
    ).toEqual(["a", "b"]);
    expect(await run("await new Promise((r) => setTimeout(r, 60_000)); return 1;")).toMatchObject({
      error: { code: "SCRIPT_WALL_TIMEOUT" },
    });
  });
});

describe("Workers-style modules and Response", () => {
  it("export default { fetch } receives a Request with the exact body, env, and returns a Response", async () => {
    const source = `export default {
      async fetch(request, env, ctx) {
        const url = new URL(request.url);
        ctx.waitUntil(Promise.resolve());
        return new Response(request.method + " " + url.pathname + " " + url.searchParams.get("q") + " " + (await request.text()) + " " + typeof env, {
          status: 201, headers: { "X-Kind": "workers" },
        });
      },
    };`;
    expect((await t.deploy("web", "worker", source)).statusCode).toBe(201);
    const response = await t.runtime.app.inject({
      method: "POST",
      url: "/web/worker/sub?q=1",
      headers: { "content-type": "application/json" },
      payload: '{"a":  1}',
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers["x-kind"]).toBe("workers");
    expect(response.body).toBe('POST /web/worker/sub 1 {"a":  1} object');
  });

  it("the incoming Request's headers are the request's as it arrived, whatever the handler does to ctx first", async () => {
    const source = `export default {
      async fetch(request, env, ctx) {
        ctx.request.headers["x-late"] = "added";
        delete ctx.request.headers["x-one"];
        const first = request.headers;
        return Response.json({
          same: first === request.headers,
          one: first.get("X-One"),
          late: first.get("x-late"),
          type: first.get("content-type"),
          names: [...first.keys()].filter((k) => k.startsWith("x-") || k === "content-type"),
        });
      },
    };`;
    expect((await t.deploy("web", "incoming", source)).statusCode).toBe(201);
    const post = await t.runtime.app.inject({
      method: "POST",
      url: "/web/incoming",
      headers: { "x-one": "1", "x-two": " 2" },
      payload: "text",
    });
    expect(post.json()).toEqual({
      same: true,
      one: "1",
      late: null,
      type: "text/plain;charset=UTF-8",
      names: ["content-type", "x-one", "x-two"],
    });
    const get = await t.runtime.app.inject({ method: "GET", url: "/web/incoming", headers: { "x-one": "1" } });
    expect(get.json()).toEqual({ same: true, one: "1", late: null, type: null, names: ["x-one"] });
    expect(get.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("a returned Response's headers are sent as its Headers iterate, a subclass's included", async () => {
    const source = `class LoudHeaders extends Headers { *entries() { yield ["x-loud", "yes"]; } }
      class Loud extends Response { get headers() { return new LoudHeaders({ "x-quiet": "1" }); } }
      export default async () => new Loud("loud");`;
    expect((await t.deploy("web", "loud", source)).statusCode).toBe(201);
    const loud = await t.runtime.app.inject({ method: "GET", url: "/web/loud" });
    expect(loud.headers["x-loud"]).toBe("yes");
    expect(loud.headers["x-quiet"]).toBeUndefined();
    expect(loud.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(loud.body).toBe("loud");
    await t.deploy("web", "plainheaders", "export default async () => Response.json({ ok: 1 }, { headers: { 'X-B': '2', 'x-a': '1' } })");
    const plain = await t.runtime.app.inject({ method: "GET", url: "/web/plainheaders" });
    expect(Object.keys(plain.headers).filter((k) => k === "content-type" || (k.startsWith("x-") && k.length === 3))).toEqual([
      "content-type",
      "x-a",
      "x-b",
    ]);
    expect(plain.body).toBe('{"ok":1}');
  });

  it("a Response's headers are the same whenever they are first read, and a script's own Headers methods are still called", async () => {
    const body = `
      const json = Response.json({ a: 1 });
      const text = new Response("x");
      const copy = text.clone();
      const seen = [];
      const before = [json.headers === json.headers, json.headers.get("content-type"), [...copy.headers], [...Response.error().headers]];
      const set = Headers.prototype.set;
      Headers.prototype.set = function (name, value) { seen.push(name); return set.call(this, name, value); };
      const patched = Response.json(null);
      Headers.prototype.set = set;
      return { before, patched: patched.headers.get("content-type"), seen, global: typeof Headers, isHeaders: text.headers instanceof Headers };`;
    expect(await run(body)).toEqual({
      before: [true, "application/json", [["content-type", "text/plain;charset=UTF-8"]], []],
      patched: "application/json",
      seen: ["content-type", "content-type"],
      global: "function",
      isHeaders: true,
    });
    expect(await run(body, "webstrict")).toEqual(await run(body));
    await t.deploy("webstrict", "hello", "export default { async fetch() { return Response.json({ message: 'Hello, world!' }) } }");
    const hello = await t.runtime.app.inject({ method: "GET", url: "/webstrict/hello" });
    expect(hello.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(hello.body).toBe('{"message":"Hello, world!"}');
  });

  it("a plain handler may return a Response, with binary bodies and Response.json", async () => {
    await t.deploy(
      "web",
      "bin",
      "export default async () => new Response(new Uint8Array([0, 255, 10]), { headers: { 'content-type': 'application/octet-stream' } })",
    );
    const bin = await t.runtime.app.inject({ method: "GET", url: "/web/bin" });
    expect(bin.statusCode).toBe(200);
    expect([...bin.rawPayload]).toEqual([0, 255, 10]);
    await t.deploy("web", "json", "export default async (ctx) => Response.json({ body: ctx.request.body }, { status: 202 })");
    const json = await t.runtime.app.inject({
      method: "POST",
      url: "/web/json",
      headers: { "content-type": "application/json" },
      payload: '{"n":1}',
    });
    expect(json.statusCode).toBe(202);
    expect(json.json()).toEqual({ body: { n: 1 } });
    expect(json.headers["content-type"]).toMatch(/^application\/json/);
  });

  it("a module without a handler for the trigger is SCRIPT_NO_HANDLER; strict mode runs the same code", async () => {
    await t.deploy("web", "sched-only", "export default { async scheduled() {} }");
    expect((await t.runtime.app.inject({ method: "GET", url: "/web/sched-only" })).json().error.code).toBe("SCRIPT_NO_HANDLER");
    await t.deploy("webstrict", "w", "export default { fetch: (r) => new Response(new URL(r.url).pathname) }");
    for (let i = 0; i < 2; i++) expect((await t.runtime.app.inject({ method: "GET", url: "/webstrict/w/x" })).body).toBe("/webstrict/w/x");
  });

  it("one app replacing fetch, crypto or Response does not affect another app or the next run's host side", async () => {
    await t.deploy(
      "other",
      "tamper",
      "export default async () => { globalThis.fetch = () => 'pwned'; crypto.subtle.digest = () => 'pwned'; Response.prototype.text = () => 'pwned'; URL = null; return 'done' }",
    );
    expect((await t.runtime.app.inject({ method: "GET", url: "/other/tamper" })).body).toBe("done");
    const result = await run(
      `${hex} return [typeof fetch, hex(await crypto.subtle.digest("SHA-256", new Uint8Array(0))).slice(0, 8), await new Response("ok").text(), typeof URL];`,
    );
    expect(result).toEqual(["function", "e3b0c442", "ok", "function"]);
  });
});
