// A new PGlite database is created from a pre-initialised data directory (out/pgdata-template.tar.gz,
// built by `npm run build` for the installed PGlite version) instead of running initdb: initdb
// peaks at ~800 MiB of WASM memory, which a process never gives back. Without a matching template
// PGlite runs initdb as before.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const NAME = "pgdata-template.tar.gz";

/** Bundles live in out/runtime or out/main (template one level up); sources in runtime/store/pglite. */
const CANDIDATES = [new URL(`../${NAME}`, import.meta.url), new URL(`../../../out/${NAME}`, import.meta.url)];

function installedPgliteVersion(): string | undefined {
  try {
    let dir = path.dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
    while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Whether `location` holds no database yet (PGlite would run initdb there). */
export function isFreshLocation(location: string): boolean {
  return location.startsWith("memory://") || !existsSync(path.join(location, "PG_VERSION"));
}

let cached: Blob | null | undefined;

/** The template as PGlite's `loadDataDir` takes it, or undefined when none matches the installed PGlite. */
export function dataDirTemplate(): Blob | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  const version = installedPgliteVersion();
  for (const url of CANDIDATES) {
    const file = fileURLToPath(url);
    try {
      const built = JSON.parse(readFileSync(`${file}.json`, "utf8")) as { pglite?: string };
      if (built.pglite !== version) continue;
      cached = new Blob([readFileSync(file)]);
      break;
    } catch {
      // not built here
    }
  }
  return cached ?? undefined;
}
