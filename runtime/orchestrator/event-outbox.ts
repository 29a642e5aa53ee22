// The outbox side of KV triggers: a KV write and the events it triggers commit in one transaction,
// so no event is lost if the process dies right after the write.
import { PiCloudError } from "../shared/errors.js";
import type { Queryable } from "../store/db.js";
import { EventStore, type NewEvent } from "../store/events.js";
import type { KvChange, KvChangeHook, WriteOrigin } from "../store/kv.js";
import type { KvTrigger } from "../store/triggers.js";
import type { Clock } from "../shared/clock.js";
import type { TriggerCache } from "./trigger-cache.js";

function matches(trigger: KvTrigger, change: KvChange): boolean {
  return (
    trigger.collection === change.collection &&
    trigger.ops.includes(change.op) &&
    (trigger.prefix === null || change.key.startsWith(trigger.prefix))
  );
}

/** ctx.event of a KV trigger, built as JSON text around the already-serialised value. */
function kvEventJson(change: KvChange): string {
  return `{"type":"kv","op":${JSON.stringify(change.op)},"collection":${JSON.stringify(change.collection)},"key":${JSON.stringify(change.key)},"value":${change.valueJson ?? "null"}}`;
}

export class EventOutbox implements KvChangeHook {
  constructor(
    private readonly deps: {
      /** The process's TriggerCache, or an executor worker's copy (executor/worker-kv.ts). */
      triggers: Pick<TriggerCache, "peek" | "kvTriggers">;
      clock: Clock;
      maxChainDepth: number;
      /** This runtime's bus origin: the insert's NOTIFY carries it, so this runtime can ignore its own. */
      origin: string;
      onCommitted: () => void;
    },
  ) {}

  mayTrigger(app: string, collection: string, key: string): boolean {
    const cached = this.deps.triggers.peek(app);
    if (!cached) return true; // unknown yet: decide inside the transaction
    return cached.some((t) => t.kind === "kv" && t.collection === collection && (t.prefix === null || key.startsWith(t.prefix)));
  }

  async onChange(tx: Queryable, change: KvChange, origin: WriteOrigin): Promise<number> {
    const triggers = (await this.deps.triggers.kvTriggers(change.app, tx)).filter((t) => matches(t, change));
    if (triggers.length === 0) return 0;
    if (origin.chainDepth > this.deps.maxChainDepth) {
      throw new PiCloudError(
        "EVENT_CHAIN_TOO_DEEP",
        `Writing '${change.collection}/${change.key}' would start handler run number ${origin.chainDepth + 1} in one chain; the limit is ${this.deps.maxChainDepth + 1}. Does a handler write to the collection that triggers it?`,
      );
    }
    const payloadJson = kvEventJson(change);
    const now = this.deps.clock.now();
    const events: NewEvent[] = triggers.map((trigger) => ({
      app: change.app,
      triggerId: trigger.id,
      script: trigger.script,
      kind: "kv",
      payloadJson,
      chainDepth: origin.chainDepth,
      maxAttempts: trigger.maxAttempts,
      backoffMs: trigger.backoffMs,
      backoffMaxMs: trigger.backoffMaxMs,
      runAt: now,
    }));
    // The insert also notifies every listening process (delivered on commit); this one is poked directly.
    await EventStore.insert(tx, events, this.deps.origin);
    return events.length;
  }

  afterCommit(): void {
    this.deps.onCommitted();
  }
}
