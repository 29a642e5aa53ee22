// Outbound fetch end to end: a real HTTP server on loopback, opened explicitly in the app's egress
// policy, and the hostile cases (the admin API on loopback, [::1], 0x7f000001, a redirect chain, a
// name resolving to 127.0.0.1, a request loop, a 1 GiB response, a server that never answers).
// Traffic goes only to loopback; refused destinations are refused before any connection.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../../testing/runtime.js";

let t: TestRuntime;
let server: Server;
let port: number;
let adminPort: number;
let resolved: string[] = [];

async function run(app: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const name = `s${Math.random().toString(36).slice(2, 10)}`;
  const deployed = await t.deploy(app, name, `export default async function (ctx) {\n${body}\n}`);
  expect(deployed.statusCode, deployed.body).toBe(201);
  const response = await t.runtime.app.inject({ method: "GET", url: `/${app}/${name}` });
  return { status: response.statusCode, json: response.json() };
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    if (url.pathname === "/hello") return void response.end("hello from loopback");
    if (url.pathname === "/json") return void response.writeHead(200, { "content-type": "application/json" }).end('{"n":42}');
    if (url.pathname === "/echo") {
      const chunks: Buffer[] = [];
      request.on("data", (c: Buffer) => chunks.push(c));
      request.on("end", () =>
        response.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            method: request.method,
            body: Buffer.concat(chunks).toString("base64"),
            type: request.headers["content-type"] ?? null,
            auth: request.headers.authorization ?? null,
          }),
        ),
      );
      return;
    }
    if (url.pathname === "/bytes")
      return void response.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.from([0, 1, 254, 255]));
    if (url.pathname === "/redirect") return void response.writeHead(302, { location: "/hello" }).end();
    if (url.pathname === "/redirect-admin")
      return void response.writeHead(302, { location: `http://127.0.0.1:${adminPort}/api/v1/apps` }).end();
    if (url.pathname === "/redirect-chain") return void response.writeHead(307, { location: "/redirect-admin" }).end();
    if (url.pathname === "/gigabyte") {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (!response.destroyed && response.write(chunk)) {}
        if (!response.destroyed) response.once("drain", pump);
      };
      response.on("close", () => response.removeAllListeners("drain"));
      return void pump();
    }
    if (url.pathname === "/gigabyte-declared") return void response.writeHead(200, { "content-length": String(1024 ** 3) }).end();
    if (url.pathname === "/never") return; // never answers
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  t = await startTestRuntime({
    flags: { limits: { wallMs: 5_000, fetchTimeoutMs: 4_000, fetchResponseBytes: 1024 * 1024 } },
    // Names never reach real DNS: each resolves to loopback (the attack) or nothing.
    resolver: async (host) => {
      resolved.push(host);
      if (host === "evil.test" || host === "localhost.test") return [{ address: "127.0.0.1", family: 4 }];
      if (host === "mixed.test")
        return [
          { address: "127.0.0.1", family: 4 },
          { address: "10.0.0.1", family: 4 },
        ];
      throw new Error("ENOTFOUND");
    },
  });
  adminPort = Number(new URL(await t.runtime.listen()).port);
  for (const id of ["open", "closed", "few", "impatient", "listed", "numeric"]) await t.api("POST", "/apps", { id });
  await t.api("POST", "/apps/listed/egress", { patterns: [`127.0.0.1:${port}`, "localhost.test"] });
  expect((await t.api("PUT", "/apps/listed/egress/mode", { mode: "allowlist" })).statusCode).toBe(200);
  await t.api("POST", "/apps/impatient/egress", { patterns: [`127.0.0.1:${port}`] });
  await t.api("PATCH", "/apps/impatient", { settings: { limits: { fetchTimeoutMs: 300 } } });
  expect((await t.api("POST", "/apps/open/egress", { patterns: [`127.0.0.1:${port}`, "localhost.test"] })).statusCode).toBe(200);
  await t.api("POST", "/apps/few/egress", { patterns: [`127.0.0.1:${port}`] });
  await t.api("PATCH", "/apps/few", { settings: { limits: { fetchRequests: 5 } } });
});

afterAll(async () => {
  await t?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe("fetch through an opened policy", () => {
  it("GET text and JSON, POST strings, JSON and bytes, follow redirects, read binary bodies", async () => {
    const { json } = await run(
      "open",
      `const base = "http://127.0.0.1:${port}";
       const hello = await fetch(base + "/hello");
       const data = await (await fetch(new Request(base + "/json"))).json();
       const echoed = await (await fetch(base + "/echo", { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json", authorization: "Bearer x" } })).json();
       const bytes = await (await fetch(base + "/echo", { method: "PUT", body: new Uint8Array([1, 2, 3]) })).json();
       const redirected = await fetch(base + "/redirect");
       const binary = new Uint8Array(await (await fetch(base + "/bytes")).arrayBuffer());
       return { status: hello.status, ok: hello.ok, text: await hello.text(), type: hello.headers.get("content-type"), data, echoed, bytes,
         redirected: [redirected.redirected, redirected.url, await redirected.text()], binary: Array.from(binary) };`,
    );
    expect(json).toEqual({
      status: 200,
      ok: true,
      text: "hello from loopback",
      type: null,
      data: { n: 42 },
      echoed: { method: "POST", body: Buffer.from('{"a":1}').toString("base64"), type: "application/json", auth: "Bearer x" },
      bytes: { method: "PUT", body: "AQID", type: null, auth: null },
      redirected: [true, `http://127.0.0.1:${port}/hello`, "hello from loopback"],
      binary: [0, 1, 254, 255],
    });
  });

  it("every outbound call shows in the invocation's detail: method, host, status, duration", async () => {
    const name = "traced";
    await t.deploy("open", name, `export default async () => { await fetch("http://127.0.0.1:${port}/hello"); return "ok" }`);
    const response = await t.runtime.app.inject({ method: "GET", url: `/open/${name}` });
    const id = response.headers["x-picloud-invocation"] as string;
    await t.runtime.services.recorder.flush();
    const detail = (await t.api("GET", `/invocations/${id}`)).json();
    const line = detail.logs.find((l: { message: string }) => l.message.startsWith("[fetch]"));
    expect(line.message).toMatch(new RegExp(`^\\[fetch\\] GET 127\\.0\\.0\\.1:${port} -> 200 \\(\\d+ ms\\)$`));
  });
});

describe("hostile fetches end in coded errors and the server keeps answering", () => {
  it("the default policy refuses the admin API on loopback, [::1], 0x7f000001 and a name resolving to 127.0.0.1", async () => {
    for (const url of [
      `http://127.0.0.1:${adminPort}/api/v1/apps`,
      `http://[::1]:${adminPort}/`,
      `http://0x7f000001:${adminPort}/`,
      `http://evil.test:${adminPort}/api/v1/apps`,
      `http://localhost.test:${adminPort}/`,
      `http://mixed.test:${port}/hello`,
      `http://[::ffff:127.0.0.1]:${adminPort}/`,
    ]) {
      const { status, json } = await run("closed", `await fetch(${JSON.stringify(url)}); return "reached"`);
      expect(json.error, url).toMatchObject({ code: "FETCH_DENIED" });
      expect(status).toBe(403);
    }
    // A script that catches it sees a coded FetchError.
    const caught = await run("closed", `try { await fetch("http://127.0.0.1:${adminPort}/"); } catch (e) { return [e.name, e.code]; }`);
    expect(caught.json).toEqual(["FetchError", "FETCH_DENIED"]);
  });

  it("a name pattern ending in a number is refused by the API, and one stored before opens no IP literal", async () => {
    for (const pattern of ["*.0.0.1", "*.0.1", "*.1.168.192", "0x7f000001", "*.a.0X7F"]) {
      const refused = await t.api("POST", "/apps/numeric/egress", { patterns: [pattern] });
      expect(refused.statusCode, pattern).toBe(400);
      expect(refused.json().error.code, pattern).toBe("EGRESS_INVALID_PATTERN");
    }
    // As if added before the API refused it: straight into the store.
    await t.runtime.services.egress.allow("numeric", ["*.0.0.1", "*.0.1"]);
    await t.runtime.services.appBindings.changed("numeric");
    for (const url of [
      `http://127.0.0.1:${port}/hello`,
      `http://127.0.0.1.:${port}/hello`,
      `http://127.1:${port}/hello`,
      `http://0x7f.0.0.1:${port}/hello`,
      `http://0177.0.0.1:${port}/hello`,
      `http://2130706433:${port}/hello`,
      `http://[::ffff:127.0.0.1]:${port}/hello`,
      `http://[::ffff:7f00:1]:${port}/hello`,
    ]) {
      const { status, json } = await run("numeric", `await fetch(${JSON.stringify(url)}); return "reached"`);
      expect(json.error, url).toMatchObject({ code: "FETCH_DENIED" });
      expect(status, url).toBe(403);
    }
  });

  it("a pattern opens exactly what it names: another port on the same address stays closed", async () => {
    const { json } = await run("open", `await fetch("http://127.0.0.1:${adminPort}/api/v1/apps")`);
    expect(json.error).toMatchObject({ code: "FETCH_DENIED" });
    // The opened name works on any port it names (here: the test server's).
    expect((await run("open", `return (await fetch("http://localhost.test:${port}/hello")).status`)).json).toBe(200);
  });

  it("a redirect (and a redirect chain) to the admin port is refused at the hop that leaves the policy", async () => {
    for (const path of ["/redirect-admin", "/redirect-chain"]) {
      const { json } = await run("open", `await fetch("http://127.0.0.1:${port}${path}")`);
      expect(json.error, path).toMatchObject({ code: "FETCH_DENIED" });
    }
    const manual = await run(
      "open",
      `const r = await fetch("http://127.0.0.1:${port}/redirect-admin", { redirect: "manual" }); return [r.status, r.headers.get("location")]`,
    );
    expect(manual.json).toEqual([302, `http://127.0.0.1:${adminPort}/api/v1/apps`]);
  });

  it("a fetch loop stops at the per-invocation request limit with FETCH_LIMIT", async () => {
    const { json } = await run("few", `let n = 0; for (;;) { await fetch("http://127.0.0.1:${port}/hello"); n++; }`);
    expect(json.error).toMatchObject({ code: "FETCH_LIMIT" });
    const counted = await run(
      "few",
      `let n = 0; try { for (;;) { await fetch("http://127.0.0.1:${port}/hello"); n++; } } catch (e) { return [n, e.code]; }`,
    );
    expect(counted.json).toEqual([5, "FETCH_LIMIT"]);
  });

  it("a 1 GiB response (streamed or declared) ends with FETCH_TOO_LARGE", async () => {
    for (const path of ["/gigabyte", "/gigabyte-declared"]) {
      const { json } = await run("open", `await (await fetch("http://127.0.0.1:${port}${path}")).arrayBuffer()`);
      expect(json.error, path).toMatchObject({ code: "FETCH_TOO_LARGE" });
    }
  });

  it("a server that never answers ends with FETCH_TIMEOUT within the fetch timeout", async () => {
    const started = Date.now();
    const { json } = await run("impatient", `await fetch("http://127.0.0.1:${port}/never")`);
    expect(json.error).toMatchObject({ code: "FETCH_TIMEOUT" });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("bad URLs and schemes are FETCH_INVALID or a TypeError before any request", async () => {
    expect((await run("open", `await fetch("file:///etc/passwd")`)).json.error).toMatchObject({ code: "FETCH_INVALID" });
    expect((await run("open", `try { await fetch("not a url") } catch (e) { return [e.name] }`)).json).toEqual(["TypeError"]);
  });

  it("after all of that the server still answers", async () => {
    expect((await t.api("GET", "/apps")).statusCode).toBe(200);
    expect((await run("open", `return (await fetch("http://127.0.0.1:${port}/hello")).status`)).json).toBe(200);
    expect(resolved).not.toContain("127.0.0.1");
    resolved = [];
  });
});

describe("an app in allowlist mode", () => {
  // "public.test" resolves to nothing here: a test never connects beyond loopback. Whether it was
  // looked up tells whether the policy let the call reach DNS at all.
  it("reaches its patterns and nothing else; a name no pattern opens is refused before DNS", async () => {
    expect((await run("listed", `return (await fetch("http://127.0.0.1:${port}/hello")).status`)).json).toBe(200);
    expect((await run("listed", `return (await fetch("http://localhost.test:${port}/hello")).status`)).json).toBe(200);
    const other = await run("listed", `await fetch("http://127.0.0.1:${adminPort}/api/v1/apps")`);
    expect(other.json.error).toMatchObject({ code: "FETCH_DENIED" });
    resolved = [];
    const denied = await run("listed", `await fetch("https://public.test/")`);
    expect(denied.status).toBe(403);
    expect(denied.json.error).toMatchObject({ code: "FETCH_DENIED", message: expect.stringContaining("only its allowed patterns") });
    expect(resolved).toEqual([]);
  });

  it("switching back to public takes effect on the next fetch: the name is looked up again", async () => {
    try {
      const view = await t.api("PUT", "/apps/listed/egress/mode", { mode: "public" });
      expect(view.json()).toMatchObject({ mode: "public", patterns: [{ pattern: "127.0.0.1:" + port }, { pattern: "localhost.test" }] });
      resolved = [];
      const failed = await run("listed", `await fetch("https://public.test/")`);
      expect(failed.json.error).toMatchObject({ code: "FETCH_FAILED" }); // resolved (to nothing), not refused
      expect(resolved).toEqual(["public.test"]);
    } finally {
      await t.api("PUT", "/apps/listed/egress/mode", { mode: "allowlist" });
    }
  });
});

describe("egress API", () => {
  it("shows and sets the mode: public by default, allowlist on request, anything else refused", async () => {
    expect((await t.api("GET", "/apps/closed/egress")).json().mode).toBe("public");
    expect((await t.api("GET", "/apps/listed/egress")).json().mode).toBe("allowlist");
    expect((await t.api("PUT", "/apps/closed/egress/mode", { mode: "deny" })).json().error.code).toBe("VALIDATION_FAILED");
    expect((await t.api("PUT", "/apps/ghost/egress/mode", { mode: "allowlist" })).json().error.code).toBe("APP_NOT_FOUND");
    expect((await t.api("PUT", "/apps/closed/egress/mode", { mode: "public" })).json()).toEqual({ mode: "public", patterns: [] });
  });

  it("lists, validates and removes patterns", async () => {
    expect((await t.api("POST", "/apps/closed/egress", { patterns: ["http://bad"] })).json().error.code).toBe("EGRESS_INVALID_PATTERN");
    await t.api("POST", "/apps/closed/egress", { patterns: ["*.Home.Arpa", "192.168.1.0/24"] });
    expect((await t.api("GET", "/apps/closed/egress")).json().patterns.map((p: { pattern: string }) => p.pattern)).toEqual([
      "*.home.arpa",
      "192.168.1.0/24",
    ]);
    expect((await t.api("DELETE", "/apps/closed/egress?pattern=192.168.1.0%2F24")).statusCode).toBe(204);
    expect((await t.api("DELETE", "/apps/closed/egress?pattern=nope.example")).statusCode).toBe(404);
    expect((await t.api("GET", "/apps/closed/egress")).json().patterns).toHaveLength(1);
  });
});
