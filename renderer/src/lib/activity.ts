// The event inspector's rows: events (each one row, whatever its attempts) and direct invocations
// (HTTP requests and test runs; invocations of events show inside their event), newest first;
// runs seen live without a stored record are rows too, marked `stored: false`.
import type { EventRecord, InvocationRecord } from "../api/types";

export type ActivityRow =
  | { readonly type: "event"; readonly id: string; readonly at: number; readonly event: EventRecord }
  | {
      readonly type: "invocation";
      readonly id: string;
      readonly at: number;
      readonly record: InvocationRecord;
      /** false: seen on the live stream only; its id resolves to no record. */
      readonly stored: boolean;
    };

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

/** Whether a run seen live (no record to query) passes the filter the API applies to stored ones. */
function matchesLive(record: InvocationRecord, filter: ActivityFilter): boolean {
  const text = filter.text?.trim().toLowerCase();
  const logged = [...record.logs.map((l) => l.message), record.error?.message ?? ""].join("\n").toLowerCase();
  return (
    (!filter.app || record.app === filter.app) &&
    (!filter.script || record.script === filter.script) &&
    (!filter.status || record.status === filter.status) &&
    (!filter.trigger || record.trigger === filter.trigger) &&
    (!text || logged.includes(text))
  );
}

/**
 * Merges the sources, newest first; with a text search every matching invocation is a row.
 * `unstored`: runs seen on the live stream without a stored record (filtered here).
 */
export function activityRows(
  events: readonly EventRecord[],
  invocations: readonly InvocationRecord[],
  filter: ActivityFilter,
  unstored: readonly InvocationRecord[] = [],
): ActivityRow[] {
  const text = Boolean(filter.text?.trim());
  const storedIds = new Set(invocations.map((record) => record.id));
  const invocationRow = (record: InvocationRecord, stored: boolean): ActivityRow => ({
    type: "invocation",
    id: record.id,
    at: Date.parse(record.startedAt),
    record,
    stored,
  });
  const rows: ActivityRow[] = [
    ...events.map((event): ActivityRow => ({ type: "event", id: event.id, at: Date.parse(event.createdAt), event })),
    ...invocations.filter((record) => text || record.eventId === null).map((record) => invocationRow(record, true)),
    ...unstored
      .filter((record) => record.eventId === null && !storedIds.has(record.id) && matchesLive(record, filter))
      .map((record) => invocationRow(record, false)),
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
