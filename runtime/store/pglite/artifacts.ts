// PGlite's WebAssembly module and its file-system bundle (~9 + 6 MB), read and compiled as early as
// possible: `picloud serve` starts this before it loads the rest of the runtime, so V8 compiles the
// module on another core while this one loads modules; PGlite would otherwise only start when the
// database opens. The compiled module serves every PGlite of the process; the file-system bundle
// read early goes to the first one only (PGlite copies it into its in-memory file system), so the
// process does not hold a second copy for its whole life.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

export interface PgliteArtifacts {
  readonly pgliteWasmModule: WebAssembly.Module;
  readonly fsBundle?: Blob;
}

let compiled: Promise<WebAssembly.Module | undefined> | undefined;
let bundle: Promise<Blob | undefined> | undefined;

/** Starts reading and compiling (once per process); failures leave PGlite to load its own files. */
export function preloadPgliteArtifacts(): void {
  if (compiled) return;
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
  } catch {
    compiled = Promise.resolve(undefined);
    return;
  }
  compiled = readFile(path.join(dir, "pglite.wasm")).then(
    (bytes) => WebAssembly.compile(bytes),
    () => undefined,
  );
  compiled.catch(() => {}); // awaited (and its failure ignored) by pgliteArtifacts
  bundle = readFile(path.join(dir, "pglite.data")).then(
    (bytes) => blobOf(bytes),
    () => undefined,
  );
}

/**
 * PGlite reads its `fsBundle` with `arrayBuffer()` and nothing else. A real Blob copies the bytes in
 * and copies them out again through Node's chunked blob reader (~14 ms of main-thread CPU for the 6 MB
 * bundle); this one hands over the file's own buffer.
 */
function blobOf(bytes: Buffer): Blob {
  const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = exact ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { arrayBuffer: async () => buffer } as unknown as Blob;
}

/** PGlite.create options: the compiled module, and the early-read file-system bundle for the first caller. */
export async function pgliteArtifacts(): Promise<PgliteArtifacts | undefined> {
  preloadPgliteArtifacts();
  const [module, fsBundle] = await Promise.all([compiled?.catch(() => undefined), bundle]);
  bundle = Promise.resolve(undefined); // handed over once; later instances read their own
  if (!module) return undefined;
  return { pgliteWasmModule: module, ...(fsBundle && { fsBundle }) };
}
