// Trigger bindings: which script runs on which KV changes, schedules, or dead letters.
import { PiCloudError } from "../shared/errors.js";
import { newId } from "../shared/ids.js";
import type { Db, Queryable } from "./db.js";
import type { KvOp } from "./kv.js";

export interface RetryPolicy {
  /** Attempts in all, including the first (1 = no retries). */
  readonly maxAttempts: number;
  /** Delay before the first retry; doubles with each further attempt. */
  readonly backoffMs: number;
  /** Upper bound of any one delay. */
  readonly backoffMaxMs: number;
}

interface TriggerCommon extends RetryPolicy {
  readonly id: string;
  readonly app: string;
  readonly script: string;
  readonly createdAt: string;
}

export type KvTrigger = TriggerCommon & {
  readonly kind: "kv";
  readonly collection: string;
  readonly ops: KvOp[];
  readonly prefix: string | null;
};
export type ScheduleTrigger = TriggerCommon & { readonly kind: "schedule"; readonly cron: string; readonly timezone: string };
export type DeadLetterTrigger = TriggerCommon & {
  readonly kind: "dead_letter";
  /** Only dead letters of this script; null for the whole app. */
  readonly forScript: string | null;
};
export type Trigger = KvTrigger | ScheduleTrigger | DeadLetterTrigger;

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type NewTrigger = DistributiveOmit<Trigger, "id" | "createdAt">;

interface TriggerRow extends Record<string, unknown> {
  id: string;
  app_id: string;
  script_name: string;
  kind: Trigger["kind"];
  collection: string | null;
  ops: KvOp[] | null;
  key_prefix: string | null;
  cron: string | null;
  timezone: string | null;
  for_script: string | null;
  max_attempts: number;
  backoff_ms: number;
  backoff_max_ms: number;
  created_at: Date;
}

function toTrigger(r: TriggerRow): Trigger {
  const common = {
    id: r.id,
    app: r.app_id,
    script: r.script_name,
    maxAttempts: r.max_attempts,
    backoffMs: r.backoff_ms,
    backoffMaxMs: r.backoff_max_ms,
    createdAt: r.created_at.toISOString(),
  };
  switch (r.kind) {
    case "kv":
      return { ...common, kind: "kv", collection: r.collection as string, ops: r.ops ?? [], prefix: r.key_prefix };
    case "schedule":
      return { ...common, kind: "schedule", cron: r.cron as string, timezone: r.timezone ?? "UTC" };
    case "dead_letter":
      return { ...common, kind: "dead_letter", forScript: r.for_script };
  }
}

/** Usable inside a transaction (the KV write path loads an app's triggers with its own connection). */
export async function listTriggers(q: Queryable, filter: { app?: string | undefined; kind?: Trigger["kind"] } = {}): Promise<Trigger[]> {
  const rows = await q.query<TriggerRow>(
    "select * from triggers where ($1::text is null or app_id = $1) and ($2::text is null or kind = $2) order by app_id, id",
    [filter.app ?? null, filter.kind ?? null],
  );
  return rows.map(toTrigger);
}

export class TriggerStore {
  constructor(private readonly db: Db) {}

  async create(input: NewTrigger): Promise<Trigger> {
    const scripts = await this.db.query("select 1 from scripts where app_id = $1 and name = $2", [input.app, input.script]);
    if (scripts.length === 0) throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${input.script}' in app '${input.app}'.`);
    const rows = await this.db
      .query<TriggerRow>(
        `insert into triggers (id, app_id, script_name, kind, collection, ops, key_prefix, cron, timezone, for_script, max_attempts, backoff_ms, backoff_max_ms)
         values ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10, $11, $12, $13) returning *`,
        [
          newId(),
          input.app,
          input.script,
          input.kind,
          input.kind === "kv" ? input.collection : null,
          input.kind === "kv" ? input.ops : null,
          input.kind === "kv" ? input.prefix : null,
          input.kind === "schedule" ? input.cron : null,
          input.kind === "schedule" ? input.timezone : null,
          input.kind === "dead_letter" ? input.forScript : null,
          input.maxAttempts,
          input.backoffMs,
          input.backoffMaxMs,
        ],
      )
      .catch((error: { code?: string }) => {
        if (error.code === "23505") {
          throw new PiCloudError(
            "TRIGGER_EXISTS",
            `App '${input.app}' already has a dead-letter handler${input.kind === "dead_letter" && input.forScript ? ` for '${input.forScript}'` : ""}.`,
          );
        }
        throw error;
      });
    return toTrigger(rows[0] as TriggerRow);
  }

  list(filter: { app?: string | undefined; kind?: Trigger["kind"] } = {}): Promise<Trigger[]> {
    return listTriggers(this.db, filter);
  }

  /** `q`: pass the transaction when calling from inside one (PGlite runs one query at a time). */
  async get(id: string, q: Queryable = this.db): Promise<Trigger | undefined> {
    const rows = await q.query<TriggerRow>("select * from triggers where id = $1", [id]);
    return rows[0] && toTrigger(rows[0]);
  }

  async delete(id: string): Promise<Trigger | undefined> {
    const rows = await this.db.query<TriggerRow>("delete from triggers where id = $1 returning *", [id]);
    return rows[0] && toTrigger(rows[0]);
  }
}
