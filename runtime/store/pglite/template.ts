// A new PGlite database is created from a pre-initialised data directory (out/pgdata-template.tar.gz,
// built by `npm run build` for the installed PGlite version) instead of running initdb: initdb
// peaks at ~800 MiB of WASM memory, which a process never gives back. Without a matching template
// PGlite runs initdb as before. A new data directory is unpacked from it on disk, streaming, before
// PGlite opens it (unpackTemplate); PGlite's own loading (`loadDataDir`, for memory://) holds the gzip,
// the 39 MiB tar and copies of it in memory until V8's next full collection.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { extract } from "tar";

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

let found: string | null | undefined;

/** The template file matching the installed PGlite, or undefined. */
function templateFile(): string | undefined {
  if (found !== undefined) return found ?? undefined;
  found = null;
  const version = installedPgliteVersion();
  for (const url of CANDIDATES) {
    const file = fileURLToPath(url);
    try {
      const built = JSON.parse(readFileSync(`${file}.json`, "utf8")) as { pglite?: string };
      if (built.pglite !== version) continue;
      found = file;
      break;
    } catch {
      // not built here
    }
  }
  return found ?? undefined;
}

let cached: Blob | undefined;

/** The template as PGlite's `loadDataDir` takes it, or undefined when none matches the installed PGlite. */
export function dataDirTemplate(): Blob | undefined {
  const file = templateFile();
  if (file) cached ??= new Blob([readFileSync(file)]);
  return cached;
}

/**
 * Unpacks the template into `dir`, a directory that does not exist yet or is empty, through a staging
 * directory beside it (a start that dies half-way leaves no half database behind). False when no
 * template matches the installed PGlite or `dir` holds files (PGlite then loads or initialises it itself).
 */
export async function unpackTemplate(dir: string): Promise<boolean> {
  const file = templateFile();
  if (!file || (existsSync(dir) && readdirSync(dir).length > 0)) return false;
  const staging = `${dir}.unpacking-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    // PGlite writes its entries with absolute paths, which tar strips (an INFO); anything else is a fault.
    const faults: string[] = [];
    await extract({
      file,
      cwd: staging,
      onwarn: (code, message) => void (code === "TAR_ENTRY_INFO" || faults.push(`${code}: ${message}`)),
    });
    if (faults.length > 0) throw new Error(`the data-dir template did not unpack: ${faults[0]}`);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  try {
    if (existsSync(dir)) rmdirSync(dir);
    renameSync(staging, dir);
  } catch (error) {
    // An empty directory that cannot be replaced (a mount point, a symlink, another file system):
    // PGlite loads the template into it itself, as it does for memory://.
    rmSync(staging, { recursive: true, force: true });
    if (["EBUSY", "ENOTDIR", "EXDEV", "EPERM", "EACCES", "EINVAL"].includes((error as NodeJS.ErrnoException).code ?? "")) return false;
    throw error;
  }
  return true;
}
