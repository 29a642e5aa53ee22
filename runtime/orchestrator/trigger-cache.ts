// Triggers per app, cached for the write path (is there any KV trigger to feed?) and the
// dispatcher (who handles this app's dead letters?). Invalidated locally and, through the bus,
// in every other process on the same database.
import type { Bus } from "../store/bus.js";
import type { Db, Queryable } from "../store/db.js";
import type { DeadLetterTrigger, KvTrigger, Trigger } from "../store/triggers.js";

export class TriggerCache {
  private readonly byApp = new Map<string, Trigger[]>();
  private readonly listeners = new Set<(app: string) => void>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly load: (q: Queryable, app: string) => Promise<Trigger[]>,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.bus.subscribe("triggers.changed", ({ app }) => this.invalidateLocal(app)),
      this.bus.subscribe("apps.changed", ({ app }) => this.invalidateLocal(app)),
      // Changes notified while LISTEN was away are unknown: reload everything.
      this.bus.onReconnect(() => this.invalidateAllLocal()),
    );
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }

  /** Called with the app whenever its triggers may have changed (the scheduler reloads). */
  onChange(listener: (app: string) => void): void {
    this.listeners.add(listener);
  }

  /** Synchronous: the cached triggers, or undefined when this app's are not loaded yet. */
  peek(app: string): readonly Trigger[] | undefined {
    return this.byApp.get(app);
  }

  async get(app: string, q: Queryable = this.db): Promise<readonly Trigger[]> {
    const cached = this.byApp.get(app);
    if (cached) return cached;
    const loaded = await this.load(q, app);
    this.byApp.set(app, loaded);
    return loaded;
  }

  async kvTriggers(app: string, q?: Queryable): Promise<KvTrigger[]> {
    return (await this.get(app, q)).filter((t): t is KvTrigger => t.kind === "kv");
  }

  /** The script-specific handler wins over the app-wide one. */
  async deadLetterHandler(app: string, failedScript: string): Promise<DeadLetterTrigger | undefined> {
    const handlers = (await this.get(app)).filter((t): t is DeadLetterTrigger => t.kind === "dead_letter");
    return handlers.find((t) => t.forScript === failedScript) ?? handlers.find((t) => t.forScript === null);
  }

  async invalidate(app: string): Promise<void> {
    await this.bus.publish("triggers.changed", { app });
  }

  private invalidateLocal(app: string): void {
    this.byApp.delete(app);
    for (const listener of this.listeners) listener(app);
  }

  private invalidateAllLocal(): void {
    this.byApp.clear();
    // "*": every app (the scheduler reloads all schedules either way).
    for (const listener of this.listeners) listener("*");
  }
}
