// The ingress lookup, cached: a script's current version with its effective settings (server < app < script).
// Invalidated on deploy, restore and settings changes, locally at once and in other processes via the bus.
import { createHash } from "node:crypto";
import type { Bus } from "../store/bus.js";
import type { Config } from "../shared/config.js";
import type { Limits } from "../shared/limits.js";
import type { AppStore } from "../store/apps.js";
import type { ScriptStore } from "../store/scripts.js";
import { effectiveSettings } from "./effective-settings.js";
import { DEFAULT_RECORD_SAMPLE_RATE } from "./invocation-recorder.js";

export interface ResolvedScript {
  readonly app: string;
  readonly script: string;
  readonly version: number;
  readonly compiled: string;
  /**
   * Names this exact code: version numbers start again at 1 when a script is deleted and deployed
   * anew, and executors keep sources and warm sandboxes by version (worker-pool.ts versionKey).
   */
  readonly revision: string;
  readonly limits: Limits;
  readonly strict: boolean;
  readonly appKey: string | null;
  /** Share of silent successful HTTP runs stored as full records. */
  readonly recordSampleRate: number;
  /** Whether responses carry the browser sandbox (the app's `browserSandbox` setting, default on). */
  readonly browserSandbox: boolean;
}

/** Unknown `app/script` names remembered at most (oldest forgotten first). */
const MAX_MISSES = 10_000;
const MISS: Promise<undefined> = Promise.resolve(undefined);

export class ScriptCache {
  private readonly entries = new Map<string, Promise<ResolvedScript | undefined>>();
  /**
   * Names that resolved to no script, so that requests to unknown endpoints (a scanner, a typo in a
   * loop) cost no database query each: on PGlite one query per 404 held the server to ~1,200 req/s.
   * Every way a name starts to resolve (deploy, restore) invalidates it like a cached script.
   */
  private readonly misses = new Set<string>();
  /** The settled, current entries' scripts, for a look-up without a promise (the ingress's fast path). */
  private readonly ready = new Map<string, ResolvedScript>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly deps: { apps: AppStore; scripts: ScriptStore; bus: Bus; config: Config }) {}

  /** Follows other processes' changes (cluster mode: several runtimes on one Postgres). */
  async start(): Promise<void> {
    const { bus } = this.deps;
    this.unsubscribe.push(
      bus.subscribe("scripts.changed", ({ target }) => this.invalidateLocal(target)),
      // An app's settings reach every script's effective settings.
      bus.subscribe("apps.changed", ({ app }) => this.invalidateLocal(app)),
      // Changes notified while LISTEN was away are unknown: forget everything.
      bus.onReconnect(() => {
        this.entries.clear();
        this.ready.clear();
        this.misses.clear();
      }),
    );
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }

  /** The script if it is cached and loaded (no database, no promise); undefined otherwise, also for a known miss. */
  peek(app: string, script: string): ResolvedScript | undefined {
    return this.ready.get(`${app}/${script}`);
  }

  get(app: string, script: string): Promise<ResolvedScript | undefined> {
    const key = `${app}/${script}`;
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.misses.has(key)) return MISS;
      entry = this.load(app, script);
      this.entries.set(key, entry);
      // A miss is remembered apart (bounded), unless the name was invalidated while it loaded (a
      // deploy raced the lookup); failures are not kept.
      entry.then(
        (found) => {
          if (this.entries.get(key) !== entry) return;
          if (found) {
            this.ready.set(key, found);
            return;
          }
          this.entries.delete(key);
          this.misses.add(key);
          if (this.misses.size > MAX_MISSES) this.misses.delete(this.misses.values().next().value as string);
        },
        () => {
          if (this.entries.get(key) === entry) this.entries.delete(key);
        },
      );
    }
    return entry;
  }

  private async load(app: string, script: string): Promise<ResolvedScript | undefined> {
    const [appRow, version] = await Promise.all([this.deps.apps.get(app), this.deps.scripts.current(app, script)]);
    if (!appRow || !version) return undefined;
    const { limits, strict } = effectiveSettings(this.deps.config.limits, appRow.settings, version.settings);
    return {
      app,
      script,
      version: version.version,
      compiled: version.compiled,
      revision: createHash("sha1").update(version.compiled).digest("base64url").slice(0, 12),
      limits,
      strict,
      appKey: appRow.settings.appKey ?? null,
      recordSampleRate: appRow.settings.recordSampleRate ?? DEFAULT_RECORD_SAMPLE_RATE,
      browserSandbox: appRow.settings.browserSandbox !== false,
    };
  }

  /** `target` is "app" or "app/script". */
  async invalidate(target: string): Promise<void> {
    await this.deps.bus.publish("scripts.changed", { target });
  }

  private invalidateLocal(target: string): void {
    if (target.includes("/")) {
      this.entries.delete(target);
      this.ready.delete(target);
      this.misses.delete(target);
      return;
    }
    for (const key of this.entries.keys()) if (key.startsWith(`${target}/`)) this.entries.delete(key);
    for (const key of this.ready.keys()) if (key.startsWith(`${target}/`)) this.ready.delete(key);
    for (const key of this.misses) if (key.startsWith(`${target}/`)) this.misses.delete(key);
  }
}
