// The event inspector's rows: events (each one row, whatever its attempts) and direct invocations
// (HTTP requests and test runs; invocations of events show inside their event), newest first.
import type { EventRecord, InvocationRecord } from "../api/types";

export type ActivityRow =
  | { readonly type: "event"; readonly id: string; readonly at: number; readonly event: EventRecord }
  | { readonly type: "invocation"; readonly id: string; readonly at: number; readonly record: InvocationRecord };

export const EVENT_STATUSES = ["pending", "running", "done", "dead", "failed"] as const;
export const INVOCATION_STATUSES = ["ok", "error"] as const;
export const EVENT_KINDS = ["kv", "schedule", "dead_letter"] as const;
export const TRIGGERS = ["http", "test", ...EVENT_KINDS] as const;

export interface ActivityFilter {
  readonly app?: string;
  readonly script?: string;
  readonly status?: string;
  readonly trigger?: string;
  /** Text in an invocation's console output or error. */
  readonly text?: string;
}

const has = (list: readonly string[], value: string | undefined) => value !== undefined && list.includes(value);

/** Which sources a filter can match: a status or trigger only one kind of row has rules out the other. */
export function sources(filter: ActivityFilter): { events: boolean; invocations: boolean } {
  const status = filter.status || undefined;
  const trigger = filter.trigger || undefined;
  const text = Boolean(filter.text?.trim());
  return {
    events: !text && (!status || has(EVENT_STATUSES, status)) && (!trigger || has(EVENT_KINDS, trigger)),
    invocations: (!status || has(INVOCATION_STATUSES, status)) && (!trigger || text || !has(EVENT_KINDS, trigger)),
  };
}

/** Merges both sources, newest first; with a text search every matching invocation is a row. */
export function activityRows(
  events: readonly EventRecord[],
  invocations: readonly InvocationRecord[],
  filter: ActivityFilter,
): ActivityRow[] {
  const text = Boolean(filter.text?.trim());
  const rows: ActivityRow[] = [
    ...events.map((event): ActivityRow => ({ type: "event", id: event.id, at: Date.parse(event.createdAt), event })),
    ...invocations
      .filter((record) => text || record.eventId === null)
      .map((record): ActivityRow => ({ type: "invocation", id: record.id, at: Date.parse(record.startedAt), record })),
  ];
  return rows.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
}

/** What a kv event is about, e.g. `orders/order-1`; other kinds say what fired them. */
export function eventSubject(event: Pick<EventRecord, "kind" | "payload">): string {
  const p = event.payload as Record<string, unknown>;
  if (event.kind === "kv") return `${String(p.op ?? "")} ${String(p.collection ?? "")}/${String(p.key ?? "")}`.trim();
  if (event.kind === "schedule") return String(p.schedule ?? "");
  if (event.kind === "dead_letter") {
    const inner = p.event as Record<string, unknown> | undefined;
    return `dead letter of ${String(p.script ?? "?")}${inner?.collection ? ` (${String(inner.collection)}/${String(inner.key ?? "")})` : ""}`;
  }
  return "";
}
