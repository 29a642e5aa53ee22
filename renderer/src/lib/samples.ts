// Sample inputs for test runs: one per trigger kind, shaped exactly like the real ctx.event.
export type SampleKind = "http" | "kv-insert" | "kv-update" | "kv-delete" | "schedule" | "dead-letter";

export const SAMPLE_LABELS: Record<SampleKind, string> = {
  http: "HTTP request",
  "kv-insert": "KV insert",
  "kv-update": "KV update",
  "kv-delete": "KV delete",
  schedule: "Schedule tick",
  "dead-letter": "Dead letter",
};

export function sampleEvent(kind: Exclude<SampleKind, "http">, now: Date = new Date()): Record<string, unknown> {
  switch (kind) {
    case "kv-insert":
      return { type: "kv", op: "insert", collection: "orders", key: "order-1", value: { total: 42, items: ["book"] } };
    case "kv-update":
      return { type: "kv", op: "update", collection: "orders", key: "order-1", value: { total: 45, items: ["book", "pen"] } };
    case "kv-delete":
      return { type: "kv", op: "delete", collection: "orders", key: "order-1", value: null };
    case "schedule":
      return { type: "schedule", schedule: "*/5 * * * *", timezone: "UTC", scheduledAt: now.toISOString() };
    case "dead-letter":
      return {
        type: "dead_letter",
        deadLetterId: "sample",
        eventId: "sample",
        script: "ship-order",
        version: 1,
        event: { type: "kv", op: "insert", collection: "orders", key: "order-1", value: { total: 42 } },
        attempts: [{ attempt: 1, at: now.toISOString(), error: { code: "SCRIPT_ERROR", message: "Error: no address" } }],
        firstAttemptAt: now.toISOString(),
        deadAt: now.toISOString(),
      };
  }
}
