// Clients that are slow on purpose: a body trickled in byte by byte is cut off with 408, an
// event-stream reader that never reads is disconnected once its bounded buffer is full, and
// streams do not leak listeners on the server.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, TEST_TOKEN, type TestRuntime } from "../testing/runtime.js";

let t: TestRuntime;
let url: URL;

beforeAll(async () => {
  t = await startTestRuntime({ flags: { requestTimeoutMs: 1_000, headersTimeoutMs: 1_000, streamBufferBytes: 64 * 1024 } });
  url = new URL(await t.runtime.listen());
  await t.api("POST", "/apps", { id: "loud", settings: { limits: { logBytes: 512 * 1024, cpuMs: 20_000, wallMs: 60_000 } } });
  // Each run logs 256 KiB: every invocation message on the stream is that big. Generous time limits:
  // on a loaded two-core machine a thread can be starved for seconds, and a timeout here is not the subject.
  await t.deploy("loud", "log", `export default async () => { console.log("x".repeat(256 * 1024)); return "ok"; }`);
});
afterAll(async () => {
  await t?.close();
});

/** Opens a raw connection and sends `head`; resolves once connected. */
function connect(head: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(head);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Everything the server sends until it closes the connection. */
function readToEnd(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("close", () => resolve(text));
    socket.on("error", () => {});
    socket.resume();
  });
}

/** Reads (resuming a paused socket) until the text so far matches `pattern`. */
function readUntil(socket: net.Socket, pattern: RegExp, sofar = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = sofar;
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (pattern.test(text)) {
        socket.off("data", onData);
        socket.pause();
        resolve(text);
      }
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`closed before ${pattern}: ...${text.slice(-300)}`)));
    socket.resume();
  });
}

describe("request timeouts", () => {
  it("a body trickled in one byte at a time is answered 408 REQUEST_TIMEOUT and the connection closed", { timeout: 30_000 }, async () => {
    const socket = await connect(`POST /loud/log HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 100000\r\n\r\nx`);
    // Keep trickling, as the attacker in the issue did, until the server gives up on us.
    const trickle = setInterval(() => socket.writable && socket.write("x"), 200);
    const started = Date.now();
    const answer = await readToEnd(socket);
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
    // The limit is 1 s; Node checks it once a second. Generous for a loaded machine.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("headers that never finish are cut off too", { timeout: 30_000 }, async () => {
    const socket = await connect("GET /health HTTP/1.1\r\nhost: x\r\n");
    const trickle = setInterval(() => socket.writable && socket.write("x-a: b\r\n"), 200);
    const answer = await readToEnd(socket);
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});

describe("event stream backpressure", () => {
  it("a client that stops reading misses messages instead of growing the server's memory, and is told so", {
    timeout: 120_000,
  }, async () => {
    const socket = await connect(`GET /api/v1/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_TOKEN}\r\n\r\n`);
    // Read the head, then stop reading: the server's send buffer has to grow.
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    socket.pause();
    // Loopback kernel buffers hold a few MiB; 24 MiB of messages is far past them and the 64 KiB bound.
    for (let i = 0; i < 96; i++) {
      expect((await t.runtime.app.inject({ method: "GET", url: "/loud/log" })).statusCode).toBe(200);
    }
    // Reading again drains the buffer; the next thing after it is the notice with the count skipped.
    const received = await readUntil(socket, /event: dropped\ndata: (.*)\n/);
    const notice = JSON.parse(/event: dropped\ndata: (.*)\n/.exec(received)?.[1] ?? "{}");
    expect(notice).toMatchObject({ reason: "slow-client", skipped: expect.any(Number) });
    expect(notice.skipped).toBeGreaterThan(0);
    // Far less than the 24 MiB produced: the skipped messages were never buffered.
    expect(received.length).toBeLessThan(16 * 1024 * 1024);
    // The stream goes on after the notice.
    await t.runtime.app.inject({ method: "GET", url: "/loud/log" });
    await readUntil(socket, /event: dropped[\s\S]*event: invocation/, received);
    socket.destroy();
  });

  it("open and closed streams leave no listeners behind on the server", { timeout: 60_000 }, async () => {
    const before = t.runtime.app.server.listenerCount("close");
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 15; i++) {
        const controller = new AbortController();
        const response = await fetch(`${url.origin}/api/v1/stream`, {
          headers: { authorization: `Bearer ${TEST_TOKEN}` },
          signal: controller.signal,
        });
        expect(response.status).toBe(200);
        controller.abort();
      }
      expect(t.runtime.app.server.listenerCount("close")).toBe(before);
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
