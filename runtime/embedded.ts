// Entry of the runtime bundle that the desktop app loads in its main process (out/runtime/embedded.js,
// built with `picloud serve`'s bundle by scripts/build-runtime.mjs): the same bundled dependencies,
// the guest prelude minified at build time, and the embedded database's WebAssembly compiling on
// another core while the rest of the runtime loads. Nothing here knows about Electron.
import type { Runtime } from "./main.js";
import type { ConfigFlags } from "./shared/config.js";
import { preloadPgliteArtifacts } from "./store/pglite/artifacts.js";

export type { Runtime };

export interface EmbeddedOptions {
  /** Settings as flags (over the environment and the defaults), e.g. host, port, dataDir, adminToken. */
  readonly flags: ConfigFlags;
  /** The built renderer to serve at /. */
  readonly uiDir?: string;
}

/** Starts the all-in-one runtime in this process (not yet listening: call `listen()`). */
export async function startEmbeddedRuntime(options: EmbeddedOptions): Promise<Runtime> {
  if (!options.flags.databaseUrl && !process.env.PICLOUD_DATABASE_URL) preloadPgliteArtifacts();
  // Loaded after the compile has started, as `picloud serve` does.
  const [{ startRuntime }, { loadConfig }, { createLogger }] = await Promise.all([
    import("./main.js"),
    import("./shared/config.js"),
    import("./shared/log.js"),
  ]);
  const config = loadConfig(options.flags);
  return startRuntime({ config, logger: createLogger(config.logLevel), ...(options.uiDir && { uiDir: options.uiDir }) });
}

/** What out/runtime/embedded.js exports (the desktop app imports it at run time, by path). */
export interface EmbeddedModule {
  readonly startEmbeddedRuntime: typeof startEmbeddedRuntime;
}
