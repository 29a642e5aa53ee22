// The outbox side of KV triggers: a KV write and the events it triggers commit in one transaction,
// so no event is lost if the process dies right after the write.
import type { Clock } from "../shared/clock.js";
import { PiCloudError } from "../shared/errors.js";
import type { Queryable } from "./db.js";
import { type EventRecord, EventStore, type InsertClaim, type NewEvent } from "./events.js";
import type { KvChange, KvChangeEffects, KvChangeHook, WriteOrigin } from "./kv.js";
import type { KvTrigger, Trigger } from "./triggers.js";

/** An app's triggers as the outbox reads them: orchestrator/trigger-cache.ts, or an executor worker's copy. */
export interface KvTriggerSource {
  /** The app's triggers if they are cached, else undefined (nothing is read). */
  peek(app: string): readonly Trigger[] | undefined;
  /** The app's KV triggers, read inside the write's transaction `q` when they are not cached. */
  kvTriggers(app: string, q?: Queryable): Promise<KvTrigger[]>;
}

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

/**
 * A dispatcher in this process that runs events its own writes trigger, without claiming them: they
 * are inserted already claimed under its lease when it has room (orchestrator/dispatcher.ts).
 */
export interface EventHandoff {
  /** Room for up to `count` of a write's events, or undefined (then they wait in the queue as pending). */
  reserve(count: number): InsertClaim | undefined;
  /** The write committed: run these events (claimed under `claim`). */
  adopt(claim: InsertClaim, events: EventRecord[]): void;
  /** The write failed: its events do not exist. */
  release(claim: InsertClaim): void;
}

export class EventOutbox implements KvChangeHook {
  private handoff: EventHandoff | undefined;

  constructor(
    private readonly deps: {
      /** The process's TriggerCache, or an executor worker's copy (executor/worker-kv.ts). */
      triggers: KvTriggerSource;
      clock: Clock;
      maxChainDepth: number;
      /** This runtime's bus origin: the insert's NOTIFY carries it, so this runtime can ignore its own. */
      origin: string;
      onCommitted: () => void;
    },
  ) {}

  /** The node role's dispatcher takes this process's trigger events directly from now on. */
  handOffTo(handoff: EventHandoff | undefined): void {
    this.handoff = handoff;
  }

  mayTrigger(app: string, collection: string, key: string): boolean {
    const cached = this.deps.triggers.peek(app);
    if (!cached) return true; // unknown yet: decide inside the transaction
    return cached.some((t) => t.kind === "kv" && t.collection === collection && (t.prefix === null || key.startsWith(t.prefix)));
  }

  async onChange(tx: Queryable, change: KvChange, origin: WriteOrigin): Promise<KvChangeEffects | undefined> {
    const triggers = (await this.deps.triggers.kvTriggers(change.app, tx)).filter((t) => matches(t, change));
    if (triggers.length === 0) return undefined;
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
    // Events this process's dispatcher has room for are inserted claimed by it and handed to it on
    // commit: no claim query, no wake-up. The rest wait as pending; the insert notifies every listening
    // process of those (delivered on commit), and this one is poked directly.
    const handoff = this.handoff;
    const claim = handoff?.reserve(events.length);
    let ids: string[];
    try {
      ids = await EventStore.insert(tx, events, this.deps.origin, claim);
    } catch (error) {
      if (claim) handoff?.release(claim);
      throw error;
    }
    const held = claim?.count ?? 0;
    return {
      committed: () => {
        if (claim)
          handoff?.adopt(
            claim,
            events.slice(0, held).map((event, i) => EventStore.claimedRecord(event, ids[i] as string, claim)),
          );
        if (held < events.length) this.deps.onCommitted();
      },
      failed: () => {
        if (claim) handoff?.release(claim);
      },
    };
  }
}
