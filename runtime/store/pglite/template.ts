// A new PGlite database is created from a pre-initialised data directory (out/pgdata-template.tar.gz,
// built by `npm run build` for the installed PGlite version) instead of running initdb: initdb
// peaks at ~800 MiB of WASM memory, which a process never gives back. Without a matching template
// PGlite runs initdb as before. A new data directory is unpacked from it on disk, streaming, before
// PGlite opens it (unpackTemplate); PGlite's own loading (`loadDataDir`, for memory://) holds the gzip,
// the 39 MiB tar and copies of it in memory until V8's next full collection.
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeSync,
} from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";

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
    await extractTar(createReadStream(file).pipe(createGunzip()), staging);
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

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString("utf8");
}

/** A ustar stream of directories and regular files (what PGlite's dumpDataDir writes) into `into`. */
async function extractTar(source: AsyncIterable<Buffer>, into: string): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let fd: number | undefined;
  let remaining = 0; // bytes of the current file still to write
  let padding = 0; // bytes to skip to the next header
  for await (const chunk of source) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (fd !== undefined) {
        const n = Math.min(remaining, pending.length - at);
        for (let written = 0; written < n; ) written += writeSync(fd, pending, at + written, n - written);
        at += n;
        remaining -= n;
        if (remaining > 0) break;
        closeSync(fd);
        fd = undefined;
      }
      if (padding > 0) {
        const n = Math.min(padding, pending.length - at);
        at += n;
        padding -= n;
        if (padding > 0) break;
      }
      if (pending.length - at < BLOCK) break;
      const header = pending.subarray(at, at + BLOCK);
      at += BLOCK;
      if (header.every((byte) => byte === 0)) continue; // the end-of-archive blocks
      const name = path.posix.join(field(header, 345, 155), field(header, 0, 100)).replace(/^\/+/, "");
      const target = path.join(into, name);
      if (name === "" || !target.startsWith(`${into}${path.sep}`)) throw new Error(`unexpected path in the data-dir template: ${name}`);
      const type = String.fromCharCode(header[156] ?? 0);
      if (type === "5") {
        mkdirSync(target, { recursive: true, mode: 0o700 });
      } else if (type === "0" || type === "\0") {
        const size = Number.parseInt(field(header, 124, 12), 8);
        mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
        fd = openSync(target, "w", 0o600);
        remaining = size;
        padding = (BLOCK - (size % BLOCK)) % BLOCK;
        if (size === 0) {
          closeSync(fd);
          fd = undefined;
        }
      } else {
        throw new Error(`unexpected entry type ${JSON.stringify(type)} in the data-dir template: ${name}`);
      }
    }
    pending = pending.subarray(at);
  }
  if (fd !== undefined) closeSync(fd);
  if (remaining > 0) throw new Error("the data-dir template is truncated");
}
