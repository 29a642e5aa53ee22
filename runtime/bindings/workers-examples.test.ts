// The two Workers-style examples end to end: real HTTP servers on loopback stand in for the chat
// API and the price API, opened in the app's egress policy; secrets come from the admin API.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

const example = (file: string) => readFileSync(new URL(`../../resources/examples/${file}`, import.meta.url), "utf8");
const SECRET = "webhook-secret-for-tests";

let t: TestRuntime;
let upstream: Server;
let base: string;
const chat: unknown[] = [];

const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = "";
    request.on("data", (c) => (text += c));
    request.on("end", () => resolve(text));
  });

beforeAll(async () => {
  upstream = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    if (url.pathname === "/chat" && request.method === "POST") {
      chat.push(JSON.parse(await readBody(request)));
      return void response.writeHead(200).end("ok");
    }
    if (url.pathname === "/prices") {
      const symbol = url.searchParams.get("symbol");
      if (symbol === "NOPE") return void response.writeHead(404).end();
      return void response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ symbol, currency: "EUR", prices: [10, 20, 30] }));
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  t = await startTestRuntime();
  await t.api("POST", "/apps", { id: "hooks" });
  await t.api("POST", `/apps/hooks/egress`, { patterns: [new URL(base).host] });
  await t.api("PUT", "/apps/hooks/secrets/WEBHOOK_SECRET", { value: SECRET });
  await t.api("PUT", "/apps/hooks/secrets/CHAT_URL", { value: `${base}/chat` });
  await t.api("PUT", "/apps/hooks/secrets/UPSTREAM_URL", { value: base });
  expect((await t.deploy("hooks", "signed-webhook", example("signed-webhook.js"))).statusCode).toBe(201);
  expect((await t.deploy("hooks", "fetch-proxy", example("fetch-proxy.js"))).statusCode).toBe(201);
});

afterAll(async () => {
  await t?.close();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

describe("resources/examples (Workers style)", () => {
  it("signed-webhook.js accepts a correctly signed body, stores it and posts to the chat API; refuses bad signatures", async () => {
    const body = '{"action":"opened","repository":{"full_name":"ada/engine"}}';
    const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
    const send = (sig: string, payload = body) =>
      t.runtime.app.inject({
        method: "POST",
        url: "/hooks/signed-webhook",
        headers: { "content-type": "application/json", "x-signature-256": sig, "x-delivery-id": "d-1" },
        payload,
      });
    const accepted = await send(signature);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toEqual({ received: "d-1" });
    expect(chat).toEqual([{ text: "ada/engine: opened" }]);
    expect((await t.api("GET", "/apps/hooks/kv/webhooks/d-1")).json().value).toMatchObject({ action: "opened" });
    expect((await send(signature, body.replace("opened", "closed"))).statusCode).toBe(401);
    expect((await send("sha256=" + "0".repeat(64))).statusCode).toBe(401);
    expect((await send("")).statusCode).toBe(401);
    expect(chat).toHaveLength(1);
  });

  it("fetch-proxy.js fetches, transforms and caches; upstream errors become 502", async () => {
    const ok = await t.runtime.app.inject({ method: "GET", url: "/hooks/fetch-proxy?symbol=btc" });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["cache-control"]).toBe("public, max-age=60");
    expect(ok.json()).toEqual({ symbol: "BTC", currency: "EUR", last: 30, average: 20, samples: 3 });
    expect((await t.runtime.app.inject({ method: "GET", url: "/hooks/fetch-proxy?symbol=NOPE" })).statusCode).toBe(502);
    expect((await t.runtime.app.inject({ method: "GET", url: "/hooks/fetch-proxy?symbol=1" })).statusCode).toBe(400);
    // Without the egress pattern the upstream on loopback is refused: a 502 naming FETCH_DENIED.
    await t.api("DELETE", `/apps/hooks/egress?pattern=${encodeURIComponent(new URL(base).host)}`);
    const denied = await t.runtime.app.inject({ method: "GET", url: "/hooks/fetch-proxy?symbol=btc" });
    expect(denied.statusCode).toBe(502);
    expect(denied.json().error).toBe("upstream unreachable (FETCH_DENIED)");
  });
});
