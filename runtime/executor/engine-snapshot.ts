// A snapshot of an engine module's linear memory, restored before each strict-mode run (strict-template.ts).
// The prebuilt QuickJS WASM lays its memory out as emscripten's linker does: static data and BSS from
// address 0, then a 5 MiB stack growing down from __stack_pointer's initial value, then the malloc heap.
// Between two calls into the module nothing on the stack is live, so a module's whole state is its
// static region plus its heap up to the last byte in use: restoring those two ranges puts every
// runtime, context, object, atom and the allocator back exactly as they were (a few hundred KiB to copy
// instead of building a runtime, a context and the prelude and compiling the lazy modules again).
import { readFileSync } from "node:fs";

/** emscripten's default stack size for this build (the static region ends where the stack begins). */
const STACK_BYTES = 5 * 1024 * 1024;

export interface EngineLayout {
  /** End of static data + BSS (= the stack's low end). */
  readonly staticEnd: number;
  /** Start of the malloc heap (= the stack's high end, __stack_pointer's initial value). */
  readonly heapBase: number;
}

/** Reads the layout from the WASM binary: its first global (__stack_pointer) and its data segments. */
export function readEngineLayout(wasm: Uint8Array): EngineLayout | undefined {
  let p = 8;
  /** A LEB128 number (signed: an i32, as in an i32.const). */
  const leb = (signed: boolean): number => {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = wasm[p++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return signed && byte & 0x40 ? (result - 2 ** shift) | 0 : result;
  };
  const uleb = () => leb(false);
  const sleb32 = () => leb(true);
  let stackHigh: number | undefined;
  let dataEnd = 0;
  while (p < wasm.length) {
    const id = wasm[p++] as number;
    const size = uleb();
    const end = p + size;
    if (id === 6 && uleb() > 0) {
      // global 0: type i32 (0x7f), mutable, init i32.const N end
      if (wasm[p] === 0x7f && wasm[p + 1] === 1 && wasm[p + 2] === 0x41) {
        p += 3;
        stackHigh = sleb32();
      }
    } else if (id === 11) {
      const count = uleb();
      for (let i = 0; i < count; i++) {
        if (uleb() !== 0 || wasm[p] !== 0x41) return undefined; // only active segments at constant offsets
        p++;
        const offset = sleb32();
        p++; // end
        const length = uleb();
        dataEnd = Math.max(dataEnd, offset + length);
        p += length;
      }
    }
    p = end;
  }
  if (stackHigh === undefined) return undefined;
  const staticEnd = stackHigh - STACK_BYTES;
  // A build whose stack is not the 5 MiB above static data is not the layout this code knows.
  if (staticEnd < dataEnd || dataEnd === 0) return undefined;
  return { staticEnd, heapBase: stackHigh };
}

let layout: EngineLayout | undefined | null;

/** The layout of the shipped WASM (read once per thread), or undefined when it is not the one expected. */
export function engineLayout(wasmPath: string): EngineLayout | undefined {
  if (layout === null) return undefined;
  if (layout === undefined) layout = readEngineLayout(readFileSync(wasmPath)) ?? null;
  return layout ?? undefined;
}

export class MemorySnapshot {
  private readonly staticPart: Uint8Array;
  private readonly heapPart: Uint8Array;

  /** Copies the static region and the heap up to its last nonzero byte (a fresh module's memory above is zero). */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly layout: EngineLayout,
  ) {
    const u8 = new Uint8Array(memory.buffer);
    this.staticPart = u8.slice(0, layout.staticEnd);
    // Every heap chunk in use, and the top chunk's header, lie below the last nonzero byte: what is above
    // is free space whose content the allocator never relies on (calloc clears what it hands out).
    const base = layout.heapBase - (layout.heapBase % 4);
    const words = new Int32Array(memory.buffer, base);
    let w = words.length - 1;
    while (w >= 0 && words[w] === 0) w--;
    const end = Math.max(layout.heapBase, base + (w + 1) * 4);
    this.heapPart = u8.slice(layout.heapBase, end);
  }

  /** Bytes copied back by each restore. */
  get bytes(): number {
    return this.staticPart.length + this.heapPart.length;
  }

  /** Bytes of heap in the snapshot (from the heap base). */
  get heapBytes(): number {
    return this.heapPart.length;
  }

  restore(): void {
    const u8 = new Uint8Array(this.memory.buffer);
    u8.set(this.staticPart, 0);
    u8.set(this.heapPart, this.layout.heapBase);
  }
}
