// Per-app binding configuration the invoker needs on every run: the app's secrets (decrypted, kept
// only in this process's memory) and its egress policy (patterns and mode). Dropped when either changes, in this process
// at once and in every other one through the bus (`bindings.changed`; `apps.changed` too, so a
// re-created app never sees old secrets), so running instances see a change without a redeploy.
import { EgressPolicy } from "../bindings/fetch/egress-policy.js";
import type { Bus } from "../store/bus.js";
import type { EgressStore } from "../store/egress.js";
import type { SecretStore } from "../store/secrets.js";

const NO_SECRETS: Readonly<Record<string, string>> = Object.freeze({});

export class AppBindingsCache {
  private readonly secrets = new Map<string, Promise<Readonly<Record<string, string>>>>();
  private readonly policies = new Map<string, Promise<EgressPolicy>>();

  constructor(private readonly deps: { secrets: SecretStore; egress: EgressStore; bus: Bus }) {}

  /** Subscribes to the bus; returns the unsubscribe. */
  start(): () => void {
    const { bus } = this.deps;
    const stops = [
      bus.subscribe("bindings.changed", ({ app }) => this.drop(app)),
      bus.subscribe("apps.changed", ({ app }) => this.drop(app)),
      // Changes announced while LISTEN was away were missed: start over.
      bus.onReconnect(() => {
        this.secrets.clear();
        this.policies.clear();
      }),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  }

  envFor(app: string): Promise<Readonly<Record<string, string>>> {
    return this.cached(this.secrets, app, async () => {
      const values = await this.deps.secrets.valuesFor(app);
      return Object.keys(values).length === 0 ? NO_SECRETS : Object.freeze(values);
    });
  }

  egressFor(app: string): Promise<EgressPolicy> {
    return this.cached(this.policies, app, async () => {
      const [patterns, mode] = await Promise.all([this.deps.egress.list(app), this.deps.egress.mode(app)]);
      return new EgressPolicy(
        patterns.map((p) => p.pattern),
        mode,
      );
    });
  }

  private cached<T>(map: Map<string, Promise<T>>, app: string, load: () => Promise<T>): Promise<T> {
    let entry = map.get(app);
    if (!entry) {
      entry = load();
      map.set(app, entry);
      // A failed load is not kept: the next run tries again.
      entry.catch(() => {
        if (map.get(app) === entry) map.delete(app);
      });
    }
    return entry;
  }

  /** After a change to the app's secrets or egress patterns. */
  changed(app: string): Promise<void> {
    return this.deps.bus.publish("bindings.changed", { app });
  }

  private drop(app: string): void {
    this.secrets.delete(app);
    this.policies.delete(app);
  }
}
