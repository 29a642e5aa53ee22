// One live stream (SSE) per connection keeps every list current: control-plane changes made
// anywhere (CLI, another window) invalidate the queries they touch, invocations and event state
// changes refresh the event views, and a stream that comes back, or that the server had to skip
// messages of (`dropped`), refetches everything (recovery after a runtime restart needs no reload).
import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState } from "react";
import { liveRunsOf } from "./live-runs";
import { type Api, keys } from "./queries";
import type { StreamMessages } from "./types";

export type LiveStatus = "connecting" | "live" | "down";

export const LiveContext = createContext<LiveStatus>("connecting");

export function useLiveStatus(): LiveStatus {
  return useContext(LiveContext);
}

/** The queries a control-plane write at `path` (below /api/v1) can make stale. */
export function invalidationsFor(api: Api, path: string): (readonly unknown[])[] {
  const [first, app, section, name] = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (first === "tokens") return [keys.tokens(api)];
  if (first === "triggers") return [[api.id, "triggers"]];
  if (first === "deadletters") return [keys.deadLetters(api), keys.events(api)];
  if (first !== "apps") return [keys.all(api)];
  if (!app) return [keys.apps(api)];
  if (!section) return [keys.apps(api), keys.app(api, app), keys.scripts(api, app), keys.scriptSettingsOf(api, app)];
  if (section === "scripts")
    return name
      ? [
          keys.scripts(api, app),
          keys.script(api, app, name),
          keys.versions(api, app, name),
          keys.triggers(api, app),
          keys.scriptSettings(api, app, name),
        ]
      : [keys.scripts(api, app)];
  if (section === "triggers") return [keys.triggers(api, app)];
  if (section === "kv") return [keys.collections(api, app), [api.id, "kv", app]];
  return [[api.id, section, app], keys.app(api, app)];
}

/** Coalesces bursts (a busy runtime sends many messages a second) into one refetch. */
function debounced(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
}

/** What `subscribe` needs of an EventSource (tests pass a stand-in). */
export interface StreamSource {
  addEventListener(type: string, listener: (message: Event) => void): void;
  close(): void;
  onopen: ((event: Event) => unknown) | null;
  onerror: ((event: Event) => unknown) | null;
}

export function subscribe(
  api: Api,
  queryClient: QueryClient,
  onStatus: (status: LiveStatus) => void,
  open: (url: string) => StreamSource = (url) => new EventSource(url),
): () => void {
  const source = open(api.client.streamUrl());
  let wasDown = false;
  const refreshActivity = debounced(() => {
    void queryClient.invalidateQueries({ queryKey: keys.events(api) });
    void queryClient.invalidateQueries({ queryKey: keys.invocations(api) });
  }, 300);
  const refreshDeadLetters = debounced(() => void queryClient.invalidateQueries({ queryKey: keys.deadLetters(api) }), 300);
  source.onopen = () => {
    onStatus("live");
    if (wasDown) void queryClient.invalidateQueries({ queryKey: keys.all(api) });
    wasDown = false;
  };
  source.onerror = () => {
    wasDown = true;
    onStatus("down");
  };
  source.addEventListener("change", (message) => {
    const { path } = JSON.parse((message as MessageEvent).data) as { path: string };
    for (const queryKey of invalidationsFor(api, path)) void queryClient.invalidateQueries({ queryKey });
  });
  // The server skipped messages this client was too slow to take: any list may be stale, so
  // everything this connection cached is refetched (only what is on screen refetches at once).
  source.addEventListener("dropped", () => void queryClient.invalidateQueries({ queryKey: keys.all(api) }));
  // A stored run is in the invocation lists (refetched); an unstored one exists only in this
  // message, so it is kept for the Events view as it came.
  source.addEventListener("invocation", (message) => {
    const { stored, ...record } = JSON.parse((message as MessageEvent).data) as StreamMessages["invocation"];
    if (stored === false) liveRunsOf(api).add(record);
    else refreshActivity();
  });
  source.addEventListener("event", (message) => {
    refreshActivity();
    const { status } = JSON.parse((message as MessageEvent).data) as { status: string };
    if (status === "dead") refreshDeadLetters();
  });
  return () => source.close();
}

/** Opens the connection's live stream for as long as the caller is mounted. */
export function useLiveUpdates(api: Api): LiveStatus {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  useEffect(() => subscribe(api, queryClient, setStatus), [api, queryClient]);
  return status;
}
