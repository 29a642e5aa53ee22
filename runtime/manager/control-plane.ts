// Manager operations that span stores and caches: every change that affects ingress invalidates it.
import { compileScript } from "../executor/compile.js";
import type { Executor } from "../executor/executor.js";
import type { ScriptCache } from "../orchestrator/script-cache.js";
import { assertAppId, assertScriptName } from "../shared/ids.js";
import type { App, AppSettings, AppStore } from "../store/apps.js";
import type { ScriptLanguage, ScriptStore, ScriptVersion } from "../store/scripts.js";

export class ControlPlane {
  constructor(private readonly deps: { apps: AppStore; scripts: ScriptStore; scriptCache: ScriptCache; executor: Executor }) {}

  createApp(id: string, settings: AppSettings = {}): Promise<App> {
    assertAppId(id);
    return this.deps.apps.create(id, settings);
  }

  async updateApp(id: string, settings: AppSettings): Promise<App> {
    const app = await this.deps.apps.updateSettings(id, settings);
    await this.deps.scriptCache.invalidate(id);
    this.deps.executor.forgetApp(id);
    return app;
  }

  async deleteApp(id: string): Promise<boolean> {
    const deleted = await this.deps.apps.delete(id);
    await this.deps.scriptCache.invalidate(id);
    this.deps.executor.forgetApp(id);
    return deleted;
  }

  /** Compiles, stores a new version and invalidates the lookup: the endpoint serves it on return. */
  async deploy(app: string, name: string, source: string, language: ScriptLanguage = "javascript"): Promise<ScriptVersion> {
    assertScriptName(name);
    const compiled = await compileScript(source, language);
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
    return deleted;
  }
}
