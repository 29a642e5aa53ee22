// Invocation records: one row per script run, written in batches, bounded by count and age.
import type { InvocationError, LogLine, TriggerKind } from "../shared/wire.js";
import type { Db } from "./db.js";

// Defined with the other shapes that cross roles and threads; re-exported for the store's callers.
export type { InvocationError, LogLine, TriggerKind } from "../shared/wire.js";

export type InvocationStatus = "ok" | "error";

export interface InvocationRecord {
  readonly id: string;
  readonly app: string;
  readonly script: string;
  readonly version: number | null;
  readonly trigger: TriggerKind;
  readonly status: InvocationStatus;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly logs: LogLine[];
  readonly error: InvocationError | null;
  readonly eventId: string | null;
  /**
   * Time the run waited in the executor's admission queue before it started, in ms (not part of
   * `durationMs`). Null on records from before it was stored, and for runs refused before admission.
   */
  readonly queuedMs?: number | null;
}

/** A text body as recorded: at most `limitBytes` UTF-8 bytes of it, and its full size. */
export interface RecordedText {
  readonly text: string;
  /** Size of the whole text in UTF-8 bytes. */
  readonly bytes: number;
  readonly truncated: boolean;
}

/** The HTTP request of an ingress run, with credentials and secret values redacted. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: Record<string, string>;
  readonly body: RecordedText | null;
}

/** The HTTP response an ingress run answered with: status and the headers the script (or the error) set. */
export interface RecordedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
}

/** What a stored record holds beyond the outcome (see orchestrator/invocation-details.ts for the limits). */
export interface InvocationDetails {
  /** HTTP runs. */
  readonly request: RecordedRequest | null;
  readonly response: RecordedResponse | null;
  /**
   * Successful runs without a request (KV, schedule, dead-letter, event test runs): the handler's
   * return value as JSON text; `{ text: "", bytes: 0 }` with `returned: false` when it returned nothing.
   */
  readonly result: (RecordedText & { readonly returned: boolean }) | null;
}

/** One record as `GET /invocations/{id}` answers it: the outcome and, when stored, the details. */
export type InvocationDetail = InvocationRecord & InvocationDetails;

/** The record the recorder buffers: the outcome, plus the details when the run is stored in full. */
export type StoredInvocation = InvocationRecord & Partial<InvocationDetails>;

export interface InvocationFilter {
  readonly app?: string | undefined;
  readonly script?: string | undefined;
  readonly status?: InvocationStatus | undefined;
  readonly trigger?: TriggerKind | undefined;
  /** Only records older than this id (ids are time-ordered): the next page. */
  readonly before?: string | undefined;
  readonly limit?: number | undefined;
  /** Text that appears in the console output or the error (case-insensitive). */
  readonly text?: string | undefined;
}

/** `%text%` for ILIKE, with the pattern characters in `text` taken literally. */
const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

interface InvocationRow extends Record<string, unknown> {
  id: string;
  app_id: string;
  script_name: string;
  version: number | null;
  trigger: TriggerKind;
  status: InvocationStatus;
  started_at: Date;
  duration_ms: number;
  logs: LogLine[];
  error: InvocationError | null;
  event_id: string | null;
  queued_ms: number | null;
}

interface InvocationDetailRow extends InvocationRow {
  request: RecordedRequest | null;
  response: RecordedResponse | null;
  result: InvocationDetails["result"];
}

/** The list's columns: everything but the request, response and result (kept for the one-record read). */
const LIST_COLUMNS = "id, app_id, script_name, version, trigger, status, started_at, duration_ms, logs, error, event_id, queued_ms";

const toRecord = (r: InvocationRow): InvocationRecord => ({
  id: r.id,
  app: r.app_id,
  script: r.script_name,
  version: r.version,
  trigger: r.trigger,
  status: r.status,
  startedAt: r.started_at.toISOString(),
  durationMs: r.duration_ms,
  logs: r.logs,
  error: r.error,
  eventId: r.event_id,
  queuedMs: r.queued_ms,
});

/** V8 writes NUL and lone surrogates as these escapes; jsonb refuses both. */
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f][0-9a-f]{2}/i;
const storableString = (text: string) => (text.replaceAll("\u0000", "\ufffd") as unknown as { toWellFormed(): string }).toWellFormed();

/**
 * JSON text jsonb accepts. Scripts may log any string (the sandbox boundary keeps them exact);
 * a record keeps everything but NUL and lone surrogates, which become U+FFFD rather than failing
 * the whole batch.
 */
function storableJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!UNSTORABLE_ESCAPE.test(json)) return json;
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "string" ? storableString(v) : v));
}

export class InvocationStore {
  constructor(private readonly db: Db) {}

  /** One statement for the whole batch, columns as arrays: the cost per record is a fraction of a row insert. */
  async insertMany(records: readonly StoredInvocation[]): Promise<void> {
    if (records.length === 0) return;
    const column = <T>(pick: (r: StoredInvocation) => T) => records.map(pick);
    const json = (value: unknown) => (value === undefined || value === null ? null : storableJson(value));
    await this.db.query(
      `insert into invocations (id, app_id, script_name, version, trigger, status, started_at, duration_ms, logs, error, event_id,
                                queued_ms, request, response, result)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[],
                            $8::float8[], $9::jsonb[], $10::jsonb[], $11::text[], $12::float8[], $13::jsonb[], $14::jsonb[], $15::jsonb[])
       on conflict (id) do nothing`,
      [
        column((r) => r.id),
        column((r) => r.app),
        column((r) => r.script),
        column((r) => r.version),
        column((r) => r.trigger),
        column((r) => r.status),
        column((r) => r.startedAt),
        column((r) => r.durationMs),
        column((r) => (r.logs.length === 0 ? "[]" : storableJson(r.logs))),
        column((r) => (r.error ? storableJson(r.error) : null)),
        column((r) => r.eventId),
        column((r) => r.queuedMs ?? null),
        column((r) => json(r.request)),
        column((r) => json(r.response)),
        column((r) => json(r.result)),
      ],
    );
  }

  async list(filter: InvocationFilter = {}): Promise<InvocationRecord[]> {
    const rows = await this.db.query<InvocationRow>(
      `select ${LIST_COLUMNS} from invocations
       where ($1::text is null or app_id = $1) and ($2::text is null or script_name = $2)
         and ($3::text is null or status = $3) and ($4::text is null or trigger = $4)
         and ($5::text is null or id < $5)
         and ($7::text is null or logs::text ilike $7 or error::text ilike $7)
       order by id desc limit $6`,
      [
        filter.app ?? null,
        filter.script ?? null,
        filter.status ?? null,
        filter.trigger ?? null,
        filter.before ?? null,
        filter.limit ?? 50,
        filter.text ? containsPattern(filter.text) : null,
      ],
    );
    return rows.map(toRecord);
  }

  async get(id: string): Promise<InvocationDetail | undefined> {
    const rows = await this.db.query<InvocationDetailRow>("select * from invocations where id = $1", [id]);
    const row = rows[0];
    return row && { ...toRecord(row), request: row.request, response: row.response, result: row.result };
  }

  /** Keeps at most `maxCount` records and none older than `maxAgeMs`; returns how many were deleted. */
  async prune(options: { maxCount: number; maxAgeMs: number; now: number }): Promise<number> {
    const cutoff = new Date(options.now - options.maxAgeMs).toISOString();
    const byAge = await this.db.query("delete from invocations where started_at < $1 returning 1", [cutoff]);
    const byCount = await this.db.query(
      `delete from invocations where id < (
         select id from invocations order by id desc offset $1 limit 1
       ) returning 1`,
      [options.maxCount - 1],
    );
    return byAge.length + byCount.length;
  }
}
