// One QuickJS WASM module per app per worker: its fixed WebAssembly.Memory is the app's real
// memory cap (the engine's own setMemoryLimit is mis-counted with the prebuilt WASM), and a fault
// in it can only ever affect that app. A module that faulted is retired: it takes no new
// instances and is dropped once its last instance is gone. A strict app also gets a module of its own
// for its template, whose memory is restored before each strict run (strict-template.ts).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import variant from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";

const WASM_PAGE = 64 * 1024;
/** The prebuilt module declares 256 initial pages (16 MiB); memory cannot start smaller. */
const INITIAL_PAGES = 256;

let compiled: Promise<WebAssembly.Module> | undefined;

/** The prebuilt QuickJS WASM file. */
export function engineWasmPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("@jitl/quickjs-wasmfile-release-sync/package.json")), "dist", "emscripten-module.wasm");
}

/** Compiling the WASM once per thread makes each new module cost only its instantiation. */
function compiledWasm(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(readFileSync(engineWasmPath()));
  return compiled;
}

export class EngineModule {
  retired = false;
  liveInstances = 0;

  private constructor(
    readonly module: QuickJSWASMModule,
    readonly memoryMiB: number,
    /** The module's linear memory (strict-template.ts snapshots and restores it). */
    readonly memory: WebAssembly.Memory,
  ) {}

  /** The module's WebAssembly memory as allocated now (it only grows; pages never touched are not resident). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  static async create(memoryMiB: number): Promise<EngineModule> {
    const maximum = Math.max(INITIAL_PAGES, Math.floor((memoryMiB * 1024 * 1024) / WASM_PAGE));
    const wasmMemory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum });
    const module = await newQuickJSWASMModuleFromVariant(
      newVariant(variant as unknown as QuickJSSyncVariant, { wasmModule: await compiledWasm(), wasmMemory }),
    );
    return new EngineModule(module, memoryMiB, wasmMemory);
  }
}
