// Filtering the live stream in the event inspector.
import type { InvocationRecord, StreamEvent } from "../api/types";

export type StreamItem =
  | { readonly type: "invocation"; readonly at: number; readonly record: InvocationRecord }
  | { readonly type: "event"; readonly at: number; readonly event: StreamEvent };

export interface StreamFilter {
  readonly script?: string;
  readonly status?: string;
  readonly trigger?: string;
}

export function itemScript(item: StreamItem): string {
  return item.type === "invocation" ? item.record.script : item.event.script;
}

export function itemStatus(item: StreamItem): string {
  return item.type === "invocation" ? item.record.status : item.event.status;
}

export function itemTrigger(item: StreamItem): string {
  return item.type === "invocation" ? item.record.trigger : item.event.kind;
}

export function matchesFilter(item: StreamItem, filter: StreamFilter): boolean {
  if (filter.script && itemScript(item) !== filter.script) return false;
  if (filter.status && itemStatus(item) !== filter.status) return false;
  if (filter.trigger && itemTrigger(item) !== filter.trigger) return false;
  return true;
}

/** Keeps the newest `max` items, newest first. */
export function pushBounded(items: readonly StreamItem[], item: StreamItem, max: number): StreamItem[] {
  const next = [item, ...items];
  return next.length > max ? next.slice(0, max) : next;
}
