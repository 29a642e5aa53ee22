// Manager operations that span stores and caches: every change that affects ingress or event
// routing invalidates the caches that serve them, here and (via the bus) in other processes.
import type { Bus } from "../store/bus.js";
import { compileScript } from "../executor/compile.js";
import { DEFAULT_RETRY } from "../orchestrator/retry-policy.js";
import { parseCron } from "../orchestrator/scheduler.js";
import type { ScriptCache } from "../orchestrator/script-cache.js";
import type { TriggerCache } from "../orchestrator/trigger-cache.js";
import type { Clock } from "../shared/clock.js";
import { PiCloudError } from "../shared/errors.js";
import { assertAppId, assertScriptName } from "../shared/ids.js";
import type { App, AppSettings, AppStore } from "../store/apps.js";
import type { Db } from "../store/db.js";
import { DeadLetterStore } from "../store/dead-letters.js";
import { EventStore } from "../store/events.js";
import { assertCollection, type KvOp } from "../store/kv.js";
import type { ScriptLanguage, ScriptSettings, ScriptStore, ScriptVersion } from "../store/scripts.js";
import type { NewTrigger, Trigger, TriggerStore } from "../store/triggers.js";

const KV_OPS: readonly KvOp[] = ["insert", "update", "delete"];

export interface TriggerInput {
  readonly script: string;
  readonly kind: Trigger["kind"];
  readonly collection?: string | undefined;
  readonly ops?: readonly string[] | undefined;
  readonly prefix?: string | undefined;
  readonly cron?: string | undefined;
  readonly timezone?: string | undefined;
  readonly forScript?: string | undefined;
  readonly maxAttempts?: number | undefined;
  readonly backoffMs?: number | undefined;
  readonly backoffMaxMs?: number | undefined;
}

export class ControlPlane {
  constructor(
    private readonly deps: {
      db: Db;
      apps: AppStore;
      scripts: ScriptStore;
      triggerStore: TriggerStore;
      scriptCache: ScriptCache;
      triggerCache: TriggerCache;
      bus: Bus;
      clock: Clock;
      /**
       * Runs the compiled module's top level in a sandbox under the script's limits and refuses it unless
       * its default export is a handler (executor/validate.ts); absent, a deploy only parses.
       */
      check?: (script: { app: string; name: string; source: string }) => Promise<void>;
    },
  ) {}

  createApp(id: string, settings: AppSettings = {}): Promise<App> {
    assertAppId(id);
    return this.deps.apps.create(id, settings);
  }

  async updateApp(id: string, settings: AppSettings): Promise<App> {
    const app = await this.deps.apps.updateSettings(id, settings);
    // Cached scripts carry the app's limits and key; nodes also drop the app's warm sandboxes.
    await this.deps.bus.publish("apps.changed", { app: id });
    return app;
  }

  /**
   * Replaces a script's own settings. Only that script's cached lookup reloads, on every process;
   * the app's other scripts keep their warm sandboxes. Executors rebuild this script's instances
   * when its new limits change what an instance fixes when built (the stack).
   */
  async updateScriptSettings(app: string, name: string, settings: ScriptSettings): Promise<ScriptSettings> {
    await this.deps.apps.require(app);
    const updated = await this.deps.scripts.updateSettings(app, name, settings);
    await this.deps.scriptCache.invalidate(`${app}/${name}`);
    return updated;
  }

  async deleteApp(id: string): Promise<boolean> {
    const deleted = await this.deps.apps.delete(id);
    await this.deps.bus.publish("apps.changed", { app: id });
    return deleted;
  }

  /** Compiles, stores a new version and invalidates the lookup: the endpoint serves it on return. */
  async deploy(app: string, name: string, source: string, language: ScriptLanguage = "javascript"): Promise<ScriptVersion> {
    assertScriptName(name);
    const compiled = await compileScript(source, language);
    await this.deps.check?.({ app, name, source: compiled.compiled });
    const version = await this.deps.scripts.deploy(app, name, { language, source, compiled: compiled.compiled });
    await this.deps.scriptCache.invalidate(`${app}/${name}`);
    return version;
  }

  async restore(app: string, name: string, version: number): Promise<ScriptVersion> {
    const restored = await this.deps.scripts.restore(app, name, version);
    await this.deps.scriptCache.invalidate(`${app}/${name}`);
    return restored;
  }

  async deleteScript(app: string, name: string): Promise<boolean> {
    const deleted = await this.deps.scripts.delete(app, name);
    await this.deps.scriptCache.invalidate(`${app}/${name}`);
    await this.deps.triggerCache.invalidate(app);
    return deleted;
  }

  async addTrigger(app: string, input: TriggerInput): Promise<Trigger> {
    await this.deps.apps.require(app);
    const retry = {
      maxAttempts: input.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
      backoffMs: input.backoffMs ?? DEFAULT_RETRY.backoffMs,
      backoffMaxMs: input.backoffMaxMs ?? Math.max(DEFAULT_RETRY.backoffMaxMs, input.backoffMs ?? 0),
    };
    if (retry.backoffMaxMs < retry.backoffMs) throw new PiCloudError("TRIGGER_INVALID", "backoffMaxMs must be at least backoffMs.");
    const common = { app, script: input.script, ...retry };
    let trigger: NewTrigger;
    switch (input.kind) {
      case "kv": {
        try {
          assertCollection(input.collection);
        } catch (error) {
          throw new PiCloudError("TRIGGER_INVALID", `A KV trigger needs a valid collection: ${(error as Error).message}`);
        }
        const ops = input.ops ?? KV_OPS;
        const unknown = ops.filter((op) => !KV_OPS.includes(op as KvOp));
        if (ops.length === 0 || unknown.length > 0) {
          throw new PiCloudError(
            "TRIGGER_INVALID",
            `ops must be some of insert, update, delete${unknown.length ? ` (not ${unknown.join(", ")})` : ""}.`,
          );
        }
        trigger = { ...common, kind: "kv", collection: input.collection, ops: [...new Set(ops)] as KvOp[], prefix: input.prefix || null };
        break;
      }
      case "schedule": {
        if (!input.cron) throw new PiCloudError("TRIGGER_INVALID", "A schedule trigger needs a cron expression.");
        const timezone = input.timezone ?? "UTC";
        parseCron(input.cron, timezone);
        trigger = { ...common, kind: "schedule", cron: input.cron, timezone };
        break;
      }
      case "dead_letter":
        if (input.forScript !== undefined) assertScriptName(input.forScript);
        trigger = { ...common, kind: "dead_letter", forScript: input.forScript ?? null };
        break;
    }
    const created = await this.deps.triggerStore.create(trigger);
    await this.deps.triggerCache.invalidate(app);
    return created;
  }

  async removeTrigger(id: string): Promise<Trigger> {
    const removed = await this.deps.triggerStore.delete(id);
    if (!removed) throw new PiCloudError("TRIGGER_NOT_FOUND", `No trigger '${id}'.`);
    await this.deps.triggerCache.invalidate(removed.app);
    return removed;
  }

  /**
   * Redrives dead letters: each becomes a fresh event (attempts start over) for its script's
   * current version, and leaves the dead-letter list. Unknown ids are reported, not fatal.
   */
  async replayDeadLetters(ids: readonly string[]): Promise<{ replayed: { deadLetter: string; event: string }[]; missing: string[] }> {
    const now = this.deps.clock.now();
    const replayed = await this.deps.db.transaction(async (tx) => {
      const taken = await DeadLetterStore.take(tx, ids);
      const out: { deadLetter: string; event: string }[] = [];
      for (const letter of taken) {
        const trigger = letter.triggerId ? await this.deps.triggerStore.get(letter.triggerId, tx) : undefined;
        const retry = trigger ?? DEFAULT_RETRY;
        const [eventId] = await EventStore.insert(
          tx,
          [
            {
              app: letter.app,
              triggerId: letter.triggerId,
              script: letter.script,
              kind: letter.kind,
              payloadJson: JSON.stringify(letter.event),
              chainDepth: letter.chainDepth,
              maxAttempts: retry.maxAttempts,
              backoffMs: retry.backoffMs,
              backoffMaxMs: retry.backoffMaxMs,
              runAt: now,
            },
          ],
          this.deps.bus.origin,
        );
        out.push({ deadLetter: letter.id, event: eventId as string });
      }
      return out;
    });
    // Other processes learn of the new events from their insert's NOTIFY.
    await this.deps.bus.publish("events.due", {});
    const found = new Set(replayed.map((r) => r.deadLetter));
    return { replayed, missing: ids.filter((id) => !found.has(id)) };
  }

  async deleteDeadLetters(ids: readonly string[]): Promise<{ deleted: string[]; missing: string[] }> {
    const taken = await this.deps.db.transaction((tx) => DeadLetterStore.take(tx, ids));
    const deleted = taken.map((letter) => letter.id);
    return { deleted, missing: ids.filter((id) => !deleted.includes(id)) };
  }
}
