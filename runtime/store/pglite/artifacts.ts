// PGlite's WebAssembly module and its file-system bundle (~9 + 6 MB), read and compiled as early as
// possible: `picloud serve` starts this before it loads the rest of the runtime, so V8 compiles the
// module on another core while this one loads modules; PGlite would otherwise only start when the
// database opens. One compiled module serves every PGlite instance of the process.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

export interface PgliteArtifacts {
  readonly pgliteWasmModule: WebAssembly.Module;
  readonly fsBundle: Blob;
}

let loading: Promise<PgliteArtifacts | undefined> | undefined;

async function load(): Promise<PgliteArtifacts> {
  const dist = path.dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
  const [wasm, data] = await Promise.all([readFile(path.join(dist, "pglite.wasm")), readFile(path.join(dist, "pglite.data"))]);
  return { pgliteWasmModule: await WebAssembly.compile(wasm), fsBundle: new Blob([data]) };
}

/** Starts loading (once per process). Undefined when the files are not where expected: PGlite then loads its own. */
export function pgliteArtifacts(): Promise<PgliteArtifacts | undefined> {
  loading ??= load().catch(() => undefined);
  return loading;
}
