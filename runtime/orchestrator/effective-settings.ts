// What a script runs with: server defaults, overridden by its app's settings, overridden by its own.
// One resolution for ingress, triggers and test runs, and for the settings API that says where each value comes from.
import { type LimitName, type Limits, resolveLimits } from "../shared/limits.js";
import type { AppSettings } from "../store/apps.js";
import type { ScriptSettings } from "../store/scripts.js";

export type SettingSource = "server" | "app" | "script";

export interface EffectiveSettings {
  readonly limits: Limits;
  readonly strict: boolean;
  /** Which level each value comes from. */
  readonly sources: { readonly strict: SettingSource; readonly limits: Readonly<Record<LimitName, SettingSource>> };
}

export function effectiveSettings(server: Limits, app: AppSettings, script: ScriptSettings = {}): EffectiveSettings {
  const limits = resolveLimits(resolveLimits(server, app.limits), script.limits);
  const sourceOf = (name: LimitName): SettingSource =>
    script.limits?.[name as keyof typeof script.limits] !== undefined ? "script" : app.limits?.[name] !== undefined ? "app" : "server";
  return {
    limits,
    strict: script.strict ?? app.strict ?? false,
    sources: {
      strict: script.strict !== undefined ? "script" : app.strict !== undefined ? "app" : "server",
      limits: Object.fromEntries((Object.keys(limits) as LimitName[]).map((name) => [name, sourceOf(name)])) as Record<
        LimitName,
        SettingSource
      >,
    },
  };
}
