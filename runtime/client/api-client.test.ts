// The client's live stream reader against SSE as servers and proxies may frame it: CRLF line ends,
// a message's data over several `data:` lines, comments, retry fields, chunks cut anywhere.
import { afterEach, describe, expect, it, vi } from "vitest";
import { PiCloudApi, type StreamMessage } from "./api-client.js";

/** A fetch whose answer is `text` as an event stream, delivered in chunks of `size` bytes. */
function streamOf(text: string, size: number): typeof fetch {
  const bytes = new TextEncoder().encode(text);
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += size) controller.enqueue(bytes.slice(at, at + size));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
}

async function read(text: string, size: number): Promise<StreamMessage[]> {
  vi.stubGlobal("fetch", streamOf(text, size));
  const messages: StreamMessage[] = [];
  await new PiCloudApi({ url: "http://127.0.0.1:1", token: "t" }).stream({}, (message) => messages.push(message));
  return messages;
}

afterEach(() => vi.unstubAllGlobals());

describe("PiCloudApi.stream", () => {
  const framed = [
    ": connected\r\n",
    "retry: 1000\r\n",
    "\r\n",
    "event: change\r\n",
    'data: {"method":"PUT",\r\n',
    'data: "path":"/apps/shop"}\r\n',
    "\r\n",
    "event: a-type-from-a-newer-server\r\n",
    "data: {}\r\n",
    "\r\n",
    "event: dropped\r\n",
    'data: {"count":3}\r\n',
    "\r\n",
  ].join("");

  it("reads CRLF line ends and a message's data over several data: lines, skipping comments, retry fields and unknown types", async () => {
    for (const size of [1, 3, 7, framed.length]) {
      expect(await read(framed, size), `chunks of ${size} bytes`).toEqual([
        { type: "change", data: { method: "PUT", path: "/apps/shop" } },
        { type: "dropped", data: { count: 3 } },
      ]);
    }
  });

  it("reads LF line ends the same", async () => {
    expect(await read(framed.replaceAll("\r\n", "\n"), 5)).toEqual([
      { type: "change", data: { method: "PUT", path: "/apps/shop" } },
      { type: "dropped", data: { count: 3 } },
    ]);
  });
});
