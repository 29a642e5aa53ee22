// The typed bus: in-process signals plus Postgres NOTIFY, so a change made in one process
// (a deploy, a trigger edit, a token revocation) reaches every process on the same database.
// Handlers run at once for this process's own publications, and on NOTIFY for everyone else's.
import { randomUUID } from "node:crypto";
import type { Db } from "./db.js";

/** Every topic and its payload. Add a topic here and every publisher and subscriber is checked. */
export interface BusTopics {
  /** A script (`"app/script"`) or every script of an app (`"app"`) changed: deploy, restore, delete. */
  "scripts.changed": { readonly target: string };
  /** An app's triggers changed. */
  "triggers.changed": { readonly app: string };
  /** An app's settings (or one of its scripts' settings) changed, or the app was deleted: cached scripts and warm sandboxes go. */
  "apps.changed": { readonly app: string };
  /** An admin token was revoked: every process drops its verified-token cache. */
  "tokens.revoked": { readonly id: string };
  /** Events became due (replay, schedule fired): dispatchers claim. In-process only. */
  "events.due": Record<string, never>;
  /** An app's secrets or egress patterns changed: every process drops its cached copy. */
  "bindings.changed": { readonly app: string };
  /**
   * A KV key was written or deleted: every other process drops it from its read cache. Sent by the
   * write's own statement (store/kv.ts), never through publish(), so it is delivered exactly at commit.
   */
  "kv.changed": { readonly app: string; readonly collection: string; readonly key: string };
  /** A node registered, changed state or left. */
  "nodes.changed": { readonly id: string; readonly status: string };
}

export type Topic = keyof BusTopics;
type Handler<T extends Topic> = (payload: BusTopics[T]) => void;

/** Topics that never leave the process (their cross-process path is another NOTIFY). */
const LOCAL_ONLY: ReadonlySet<Topic> = new Set<Topic>(["events.due"]);

export const BUS_CHANNEL = "picloud_bus";

interface Envelope {
  readonly topic: Topic;
  readonly origin: string;
  readonly payload: unknown;
}

export class Bus {
  /** Tells this process's notifications apart from everyone else's. */
  readonly origin = randomUUID();
  private readonly handlers = new Map<Topic, Set<Handler<Topic>>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly db: Db) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(BUS_CHANNEL, (text) => this.receive(text));
    this.db.onReconnect?.(() => {
      for (const handler of this.reconnectHandlers) handler();
    });
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(handler as Handler<Topic>);
    return () => {
      set.delete(handler as Handler<Topic>);
    };
  }

  /**
   * Runs this process's handlers now, then notifies the others. A failed NOTIFY (database away)
   * is not an error for the caller: every process catches up when its LISTEN connection returns.
   */
  async publish<T extends Topic>(topic: T, payload: BusTopics[T]): Promise<void> {
    this.deliver(topic, payload);
    if (LOCAL_ONLY.has(topic)) return;
    await this.db.notify(BUS_CHANNEL, this.envelope(topic, payload)).catch(() => {});
  }

  /** The NOTIFY payload that reaches every other process's handlers of `topic`, for a statement to send itself. */
  envelope<T extends Topic>(topic: T, payload: BusTopics[T]): string {
    const envelope: Envelope = { topic, origin: this.origin, payload };
    return JSON.stringify(envelope);
  }

  /**
   * Called after the LISTEN connection came back: notifications sent meanwhile are lost, so
   * subscribers re-read what they cache (scripts, triggers, tokens) and claim due events.
   */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => {
      this.reconnectHandlers.delete(handler);
    };
  }

  private receive(text: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (envelope.origin === this.origin) return;
    this.deliver(envelope.topic, envelope.payload as BusTopics[Topic]);
  }

  private deliver<T extends Topic>(topic: T, payload: BusTopics[T]): void {
    for (const handler of this.handlers.get(topic) ?? []) handler(payload);
  }
}
