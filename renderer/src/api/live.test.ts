import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { PiCloudClient } from "./client";
import { type StreamSource, subscribe } from "./live";
import { liveRunsOf } from "./live-runs";
import type { Api } from "./queries";

/** Stands in for the browser's EventSource: the test dispatches the server's messages. */
class FakeStream extends EventTarget implements StreamSource {
  onopen: StreamSource["onopen"] = null;
  onerror: StreamSource["onerror"] = null;
  closed = false;
  close(): void {
    this.closed = true;
  }
  message(type: string, data: unknown): void {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
}

function setup() {
  const queryClient = new QueryClient();
  const api: Api = { id: "conn-a", client: new PiCloudClient("http://127.0.0.1:1", "pc_token") };
  // Cached data of this connection, and of another one that must be left alone.
  for (const key of [
    ["conn-a", "apps"],
    ["conn-a", "scripts", "shop"],
    ["conn-a", "invocations", {}],
    ["conn-a", "script-settings", "shop", "cart"],
    ["conn-b", "apps"],
  ]) {
    queryClient.setQueryData(key, ["cached"]);
  }
  const stream = new FakeStream();
  const noStatus = () => {};
  const stop = subscribe(api, queryClient, noStatus, () => stream);
  const invalidated = (key: unknown[]) => queryClient.getQueryState(key)?.isInvalidated;
  return { queryClient, stream, stop, invalidated };
}

describe("live stream", () => {
  it("invalidates every query of the connection when the server says it dropped messages", () => {
    const { stream, stop, invalidated } = setup();
    expect(invalidated(["conn-a", "apps"])).toBe(false);
    stream.message("dropped", { reason: "slow-client", skipped: 12, limit: 1024 });
    expect(invalidated(["conn-a", "apps"])).toBe(true);
    expect(invalidated(["conn-a", "scripts", "shop"])).toBe(true);
    expect(invalidated(["conn-a", "invocations", {}])).toBe(true);
    expect(invalidated(["conn-b", "apps"])).toBe(false);
    stop();
    expect(stream.closed).toBe(true);
  });

  it("keeps a run that has no stored record for the Events view; a stored one refetches the lists", async () => {
    const { stream, invalidated } = setup();
    const run = { id: "r1", app: "shop", script: "quiet", status: "ok", trigger: "http", eventId: null, logs: [] };
    stream.message("invocation", { ...run, stored: false });
    expect(liveRunsOf({ id: "conn-a" }).list()).toEqual([run]);
    expect(liveRunsOf({ id: "conn-b" }).list()).toEqual([]);
    stream.message("invocation", { ...run, id: "r2", stored: true });
    expect(
      liveRunsOf({ id: "conn-a" })
        .list()
        .map((r) => r.id),
    ).toEqual(["r1"]);
    await expect.poll(() => invalidated(["conn-a", "invocations", {}])).toBe(true);
  });

  it("a change message invalidates only what it touches", () => {
    const { stream, invalidated } = setup();
    stream.message("change", { method: "PUT", path: "/apps/shop/scripts/cart", app: "shop" });
    expect(invalidated(["conn-a", "scripts", "shop"])).toBe(true);
    expect(invalidated(["conn-a", "apps"])).toBe(false);
  });

  it("a script's settings follow changes to them and to their app's settings", () => {
    for (const path of ["/apps/shop/scripts/cart/settings", "/apps/shop"]) {
      const { stream, invalidated } = setup();
      stream.message("change", { method: "PUT", path, app: "shop" });
      expect(invalidated(["conn-a", "script-settings", "shop", "cart"]), path).toBe(true);
    }
  });
});
