// Runs the live stream reported without a stored record (`stored: false`: successful HTTP runs
// without console output that the app's recordSampleRate left out). No list query can return
// them, so the Events view shows them from here: kept per connection, newest first, in memory
// only (after a reload they exist only in the per-minute aggregates).
import { useSyncExternalStore } from "react";
import type { Api } from "./queries";
import type { InvocationRecord } from "./types";

/** How many unstored runs a connection keeps for the Events view. */
export const LIVE_RUNS_KEPT = 500;

export class LiveRuns {
  private runs: readonly InvocationRecord[] = [];
  private readonly listeners = new Set<() => void>();

  add(record: InvocationRecord): void {
    this.runs = [record, ...this.runs].slice(0, LIVE_RUNS_KEPT);
    for (const listener of this.listeners) listener();
  }

  readonly list = (): readonly InvocationRecord[] => this.runs;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

const byConnection = new Map<string, LiveRuns>();

export function liveRunsOf(api: Pick<Api, "id">): LiveRuns {
  let runs = byConnection.get(api.id);
  if (!runs) {
    runs = new LiveRuns();
    byConnection.set(api.id, runs);
  }
  return runs;
}

/** The connection's unstored runs seen on the live stream since the UI was loaded, newest first. */
export function useUnstoredRuns(api: Pick<Api, "id">): readonly InvocationRecord[] {
  const runs = liveRunsOf(api);
  return useSyncExternalStore(runs.subscribe, runs.list);
}
