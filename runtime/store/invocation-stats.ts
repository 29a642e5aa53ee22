// Per-script, per-minute aggregates of every invocation (count, errors by code, duration histogram,
// CPU). Rows are added to, never replaced, so several processes can flush into the same minute.
import { addHistogram, emptyHistogram } from "../shared/duration-histogram.js";
import type { Db } from "./db.js";

export interface StatsRow {
  readonly app: string;
  readonly script: string;
  /** Start of the minute, epoch ms. */
  readonly minute: number;
  readonly count: number;
  readonly errorCount: number;
  /** Failed runs by error code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Counts per DURATION_BUCKETS_MS bucket, the last one open-ended. */
  readonly durationHist: readonly number[];
  readonly durationSumMs: number;
  readonly cpuMs: number;
}

export interface StatsQuery {
  readonly app?: string | undefined;
  readonly script?: string | undefined;
  /** Inclusive start and exclusive end, epoch ms. */
  readonly from: number;
  readonly to: number;
}

interface StatsDbRow extends Record<string, unknown> {
  app_id: string;
  script_name: string;
  minute: Date;
  count: number;
  error_count: number;
  errors: Record<string, number>;
  duration_hist: number[];
  duration_sum_ms: number;
  cpu_ms: number;
}

export class InvocationStatsStore {
  constructor(private readonly db: Db) {}

  /** Adds each row to its (app, script, minute); one statement per batch. Keys must be unique within a batch. */
  async addMany(rows: readonly StatsRow[]): Promise<void> {
    if (rows.length === 0) return;
    const column = <T>(pick: (r: StatsRow) => T) => rows.map(pick);
    await this.db.query(
      `insert into invocation_stats as s (app_id, script_name, minute, count, error_count, errors, duration_hist, duration_sum_ms, cpu_ms)
       select a, n, m, c, ec, e, h::int[], d, cpu
       from unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::jsonb[], $7::text[], $8::float8[], $9::float8[])
         as t(a, n, m, c, ec, e, h, d, cpu)
       on conflict (app_id, minute, script_name) do update set
         count = s.count + excluded.count,
         error_count = s.error_count + excluded.error_count,
         errors = (select coalesce(jsonb_object_agg(k, total), '{}'::jsonb) from (
                     select k, sum(v::int) as total
                     from (select * from jsonb_each_text(s.errors) union all select * from jsonb_each_text(excluded.errors)) as both_(k, v)
                     group by k) as merged),
         duration_hist = array(select coalesce(x, 0) + coalesce(y, 0)
                               from unnest(s.duration_hist, excluded.duration_hist) with ordinality as u(x, y, i) order by i),
         duration_sum_ms = s.duration_sum_ms + excluded.duration_sum_ms,
         cpu_ms = s.cpu_ms + excluded.cpu_ms`,
      [
        column((r) => r.app),
        column((r) => r.script),
        column((r) => new Date(r.minute).toISOString()),
        column((r) => r.count),
        column((r) => r.errorCount),
        column((r) => JSON.stringify(r.errors)),
        column((r) => `{${r.durationHist.join(",")}}`),
        column((r) => r.durationSumMs),
        column((r) => r.cpuMs),
      ],
    );
  }

  /** Rows in the window, oldest first, filtered by app and script when given. */
  async list(query: StatsQuery): Promise<StatsRow[]> {
    const rows = await this.db.query<StatsDbRow>(
      `select * from invocation_stats
       where minute >= $1 and minute < $2 and ($3::text is null or app_id = $3) and ($4::text is null or script_name = $4)
       order by minute, app_id, script_name`,
      [new Date(query.from).toISOString(), new Date(query.to).toISOString(), query.app ?? null, query.script ?? null],
    );
    return rows.map((r) => ({
      app: r.app_id,
      script: r.script_name,
      minute: r.minute.getTime(),
      count: r.count,
      errorCount: r.error_count,
      errors: r.errors,
      durationHist: addHistogram(emptyHistogram(), r.duration_hist),
      durationSumMs: r.duration_sum_ms,
      cpuMs: r.cpu_ms,
    }));
  }

  /** Deletes minutes older than `maxAgeMs`; returns how many rows went. */
  async prune(options: { maxAgeMs: number; now: number }): Promise<number> {
    const cutoff = new Date(options.now - options.maxAgeMs).toISOString();
    return (await this.db.query("delete from invocation_stats where minute < $1 returning 1", [cutoff])).length;
  }
}
