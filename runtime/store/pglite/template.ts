// A new PGlite database is created from a pre-initialised, migrated data directory
// (out/pgdata-template.tar.gz, built by `npm run build` for the installed PGlite version and this
// code's migrations; see template-schema.ts) instead of running initdb: initdb peaks at ~800 MiB of
// WASM memory, which a process never gives back. Without a matching template PGlite runs initdb as before. A new data directory is unpacked from it on disk, streaming, before
// PGlite opens it (unpackTemplate); PGlite's own loading (`loadDataDir`, for memory://) holds the gzip,
// the 39 MiB tar and copies of it in memory until V8's next full collection.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { extract } from "tar";
import { processAlive } from "../data-dir-lock.js";
import { type TemplateSchema, templateSchemaFits } from "./template-schema.js";

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

/**
 * Present in a data directory while the template is copied into it in place (fillInPlace): a
 * directory that has it was left half-filled, whatever else it holds.
 */
const FILLING_MARKER = ".picloud-unpacking";

/**
 * What the root of a fresh file system already holds (ext2/3/4 make `lost+found`): a data directory
 * that is a mount point of its own starts with it. Such a directory counts as empty, is filled in
 * place (it cannot be renamed over), and the entry is left alone, never read, fsynced or removed
 * (it belongs to root and to fsck).
 */
const FILE_SYSTEM_ROOT_ENTRIES: ReadonlySet<string> = new Set(["lost+found"]);

/** Whether `location` holds no database yet (PGlite would run initdb there). */
export function isFreshLocation(location: string): boolean {
  return (
    location.startsWith("memory://") || !existsSync(path.join(location, "PG_VERSION")) || existsSync(path.join(location, FILLING_MARKER))
  );
}

let found: string | null | undefined;

/** The template file matching the installed PGlite and holding no migration this code does not know, or undefined. */
function templateFile(): string | undefined {
  if (found !== undefined) return found ?? undefined;
  found = null;
  const version = installedPgliteVersion();
  for (const url of CANDIDATES) {
    const file = fileURLToPath(url);
    try {
      const built = JSON.parse(readFileSync(`${file}.json`, "utf8")) as { pglite?: string; schema?: TemplateSchema };
      if (built.pglite !== version || !templateSchemaFits(built.schema)) continue;
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

/** The staging directory beside `dir` that a process unpacks into: `<dir>.unpacking-<pid>`. */
function stagingPrefix(dir: string): string {
  return `${path.basename(dir)}.unpacking-`;
}

/** Removes staging directories left beside `dir` by processes that died while unpacking. */
function removeAbandonedStaging(dir: string): void {
  const parent = path.dirname(dir);
  const prefix = stagingPrefix(dir);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) continue; // another start, still unpacking
    rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

/** fsync one file or directory (Windows cannot open a directory for fsync; NTFS journals the metadata). */
async function fsyncPath(file: string, isDirectory: boolean): Promise<void> {
  if (isDirectory && process.platform === "win32") return;
  const handle = await open(file, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * fsyncs every file under `dir`, then every directory bottom-up, so that a rename after it publishes
 * only durable content. `skip`: names directly under `dir` to leave out (a file system's lost+found).
 */
export async function fsyncTree(dir: string, skip: ReadonlySet<string> = new Set()): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((entry) => !skip.has(entry.name));
  const files = entries.filter((entry) => entry.isFile()).map((entry) => path.join(dir, entry.name));
  // A few at a time: the disk queues them, and one slow fsync does not serialise the rest.
  for (let i = 0; i < files.length; i += 16) await Promise.all(files.slice(i, i + 16).map((file) => fsyncPath(file, false)));
  for (const entry of entries) if (entry.isDirectory()) await fsyncTree(path.join(dir, entry.name));
  await fsyncPath(dir, true);
}

/**
 * Unpacks the template into `dir`, a directory that does not exist yet or is empty, through a staging
 * directory beside it that is fsynced (files, then directories) before it is renamed into place, and the
 * rename is fsynced in the parent: a start that dies half-way, or a power cut at any point, leaves either
 * no data directory (the next start unpacks again, removing the abandoned staging directory) or a whole
 * one, never a torn directory that has PG_VERSION and is then taken for a database. An empty `dir` that
 * cannot be replaced (a mount point, a symlink), or one that holds only a file system's `lost+found` (a
 * mount point), is filled in place instead (fillInPlace), as durably. False when no template matches the
 * installed PGlite or `dir` holds files (PGlite then loads or initialises it itself).
 * `file` is for tests (default: the built template).
 */
export async function unpackTemplate(dir: string, file: string | undefined = templateFile()): Promise<boolean> {
  if (!file) return false;
  const halfFilled = existsSync(path.join(dir, FILLING_MARKER));
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  if (!halfFilled && entries.some((name) => !FILE_SYSTEM_ROOT_ENTRIES.has(name))) return false;
  // A file system's own root: renaming over it would fail (or move lost+found away).
  const fileSystemRoot = entries.some((name) => FILE_SYSTEM_ROOT_ENTRIES.has(name));
  removeAbandonedStaging(dir);
  const staging = path.join(path.dirname(dir), `${stagingPrefix(dir)}${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    // PGlite writes its entries with absolute paths, which tar strips (an INFO); anything else is a fault.
    const faults: string[] = [];
    await extract({
      file,
      cwd: staging,
      // tar reads up to 16 MiB at a time by default; inflated, that held ~45 MiB of external memory
      // that the process's RSS kept after the unpack. 256 KiB reads cost no measurable time.
      maxReadSize: 256 * 1024,
      onwarn: (code, message) => void (code === "TAR_ENTRY_INFO" || faults.push(`${code}: ${message}`)),
    });
    if (faults.length > 0) throw new Error(`the data-dir template did not unpack: ${faults[0]}`);
    if (!existsSync(path.join(staging, "PG_VERSION"))) throw new Error("the data-dir template did not unpack: it has no PG_VERSION");
    await fsyncTree(staging);
    if (!halfFilled && !fileSystemRoot && (await renameIntoPlace(staging, dir))) return true;
    await fillInPlace(staging, dir);
    return true;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Renames the staging directory to `dir` (durably); false when `dir` cannot be replaced. */
async function renameIntoPlace(staging: string, dir: string): Promise<boolean> {
  try {
    if (existsSync(dir)) rmdirSync(dir);
    renameSync(staging, dir);
  } catch (error) {
    // An empty directory that cannot be replaced: a mount point, a symlink, another file system.
    if (["EBUSY", "ENOTDIR", "EXDEV", "EPERM", "EACCES", "EINVAL"].includes((error as NodeJS.ErrnoException).code ?? "")) return false;
    throw error;
  }
  await fsyncPath(path.dirname(dir), true); // the rename itself
  return true;
}

/**
 * Copies the staged template into `dir` itself, durably and so that no moment leaves a directory that
 * looks whole but is not: a marker first, then everything but PG_VERSION, then PG_VERSION, then the
 * marker goes, each step fsynced before the next. A start that finds the marker clears the directory
 * (everything in it but a file system's lost+found came from here) and fills it again.
 */
async function fillInPlace(staging: string, dir: string): Promise<void> {
  const marker = path.join(dir, FILLING_MARKER);
  for (const name of readdirSync(dir)) {
    if (name !== FILLING_MARKER && !FILE_SYSTEM_ROOT_ENTRIES.has(name)) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
  writeFileSync(marker, "");
  await fsyncPath(marker, false);
  await fsyncPath(dir, true);
  for (const name of readdirSync(staging)) {
    if (name !== "PG_VERSION") cpSync(path.join(staging, name), path.join(dir, name), { recursive: true });
  }
  await fsyncTree(dir, FILE_SYSTEM_ROOT_ENTRIES);
  cpSync(path.join(staging, "PG_VERSION"), path.join(dir, "PG_VERSION"));
  await fsyncPath(path.join(dir, "PG_VERSION"), false);
  await fsyncPath(dir, true);
  rmSync(marker);
  await fsyncPath(dir, true);
}
