// A server that is closing answers the requests that still reach it (a connection that was already
// sending one when close() began) with the coded SHUTTING_DOWN, which a browser on another origin can
// read, instead of fastify's own uncoded 503. Over real sockets: inject() refuses a closing server.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../shared/errors.js";
import { startTestRuntime, TEST_TOKEN, type TestRuntime } from "../testing/runtime.js";

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function parse(raw: string): RawResponse {
  const [head = "", body = ""] = raw.split("\r\n\r\n", 2);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

/** A connection that has sent all of a request's head but its final blank line. */
async function halfSent(port: number, head: string): Promise<{ finish(): Promise<RawResponse> }> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let raw = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => {
    raw += chunk;
  });
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(head);
  return {
    async finish() {
      socket.write("\r\n");
      await ended;
      return parse(raw);
    },
  };
}

let t: TestRuntime;
let port: number;

beforeAll(async () => {
  t = await startTestRuntime();
  expect((await t.api("POST", "/apps", { id: "shop" })).statusCode).toBe(201);
  expect((await t.deploy("shop", "page", "export default async () => 'served'")).statusCode).toBe(201);
  port = Number(new URL(await t.runtime.listen()).port);
});
afterAll(async () => {
  await t?.close();
});

describe("a closing server", () => {
  it("answers requests that reach it with SHUTTING_DOWN in the error shape, with the headers a browser needs", async () => {
    const origin = "http://localhost:5173";
    const api = await halfSent(
      port,
      `GET /api/v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: ${origin}\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n`,
    );
    const preflight = await halfSent(
      port,
      `OPTIONS /api/v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: ${origin}\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n`,
    );
    const endpoint = await halfSent(port, "GET /shop/page HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    // A whole round trip on another connection: the half-sent heads above have been read by now.
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toMatchObject({ ok: true });

    const closed = t.runtime.close();
    while (t.runtime.app.server.listening) await new Promise((resolve) => setImmediate(resolve));

    const refused = await api.finish();
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toEqual({ error: { code: "SHUTTING_DOWN", message: ERROR_CODES.SHUTTING_DOWN.message } });
    expect(refused.headers).toMatchObject({
      "content-type": "application/json; charset=utf-8",
      "access-control-allow-origin": "*",
      "access-control-expose-headers": "retry-after",
      "retry-after": "1",
      connection: "close",
    });

    // The preflight still succeeds, or the browser would not show the answer above to the page.
    const allowed = await preflight.finish();
    expect(allowed.status).toBe(204);
    expect(allowed.headers["access-control-allow-origin"]).toBe("*");
    expect(allowed.headers["access-control-allow-headers"]).toMatch(/authorization/);

    // Script endpoints get the same coded answer (no script runs); no Origin, no CORS header.
    const script = await endpoint.finish();
    expect(script.status).toBe(503);
    expect(JSON.parse(script.body).error.code).toBe("SHUTTING_DOWN");
    expect(script.headers["access-control-allow-origin"]).toBeUndefined();
    expect(script.headers["retry-after"]).toBe("1");

    await closed;
  });
});
