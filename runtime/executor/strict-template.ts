// Strict mode from a snapshot: one engine module per app (per worker) holds a template instance —
// runtime, context, prelude and the lazy modules the app's runs load — whose memory is snapshotted
// once (engine-snapshot.ts). Each strict run restores that memory, so it starts from exactly the
// state a freshly built instance would have (globals, prototypes, module state, the allocator: all of
// it), reseeds Math.random, evaluates the script and runs. Building that state again per run (a new
// runtime and context, the prelude and the lazy modules compiled) cost ~2 ms for a Workers-style
// hello; restoring it is a copy of a few hundred KiB.
import { randomFillSync } from "node:crypto";
import type { Limits } from "../shared/limits.js";
import { type EngineLayout, MemorySnapshot } from "./engine-snapshot.js";
import type { EngineModule } from "./engine-module.js";
import { type GuestSources, type InstanceState, SandboxInstance } from "./sandbox-instance.js";

const MASK64 = (1n << 64n) - 1n;

/** One step of QuickJS's Math.random (xorshift64*): the next state and the number it gives. */
function randomStep(state: bigint): { next: bigint; value: number } {
  let x = state;
  x ^= x >> 12n;
  x ^= (x << 25n) & MASK64;
  x ^= x >> 27n;
  const v = (x * 0x2545f4914f6cdd1dn) & MASK64;
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, (0x3ffn << 52n) | (v >> 12n));
  return { next: x, value: view.getFloat64(0) - 1 };
}

/** How far into the JSContext struct its random state is looked for. */
const CONTEXT_SPAN = 1024;

/**
 * The address of the context's Math.random state (a uint64 in the JSContext struct): the one word whose
 * value before a Math.random() call steps, by QuickJS's generator, to its value after the call and
 * gives the number the call returned. Found by reading only; undefined if no word fits.
 */
export function findRandomState(instance: SandboxInstance, memory: WebAssembly.Memory): number | undefined {
  const at = instance.contextPointer;
  const words = () => {
    const view = new DataView(memory.buffer);
    const out: bigint[] = [];
    for (let offset = (8 - (at % 8)) % 8; offset + 8 <= CONTEXT_SPAN; offset += 8) out.push(view.getBigUint64(at + offset, true));
    return out;
  };
  const before = words();
  const value = instance.evaluate("Math.random()");
  const after = words();
  const found: number[] = [];
  for (let i = 0; i < before.length; i++) {
    const state = before[i] as bigint;
    if (state === 0n) continue;
    const step = randomStep(state);
    if (step.next === after[i] && step.value === value) found.push(i);
  }
  return found.length === 1 ? at + ((8 - (at % 8)) % 8) + (found[0] as number) * 8 : undefined;
}

/** quickjs-emscripten's own lazily made handles and host-function table: a run must not change them. */
function wrapperState(instance: SandboxInstance): readonly unknown[] {
  const context = (instance as unknown as { context: Record<string, unknown> }).context;
  const runtime = context.runtime as { hostRefs: { nextId: number; freelist: unknown[] } };
  return [
    context._global,
    context._Symbol,
    context._BigInt,
    context._SymbolIterator,
    context._SymbolAsyncIterator,
    runtime.hostRefs.nextId,
    runtime.hostRefs.freelist.length,
  ];
}

const seeds = new BigUint64Array(256);
let nextSeed = seeds.length;

function freshSeed(): bigint {
  if (nextSeed === seeds.length) {
    randomFillSync(seeds);
    nextSeed = 0;
  }
  return seeds[nextSeed++] || 1n;
}

export class StrictTemplate {
  /** A run holds it from prepare until its outcome. */
  busy = false;
  private dirty = false;
  private snapshot!: MemorySnapshot;
  private state!: InstanceState;
  private wrappers!: readonly unknown[];
  private readonly preloaded = new Set<string>();

  private constructor(
    readonly engine: EngineModule,
    private readonly layout: EngineLayout,
    private readonly instance: SandboxInstance,
    private readonly randomAt: number,
    readonly stackKiB: number,
  ) {}

  /**
   * Builds the template in `engine`, which must be its own (a restore rewrites the whole module).
   * Throws when it cannot be built or its random state is not found (strict mode then builds instances).
   */
  static create(
    engine: EngineModule,
    layout: EngineLayout,
    limits: Limits,
    sources: GuestSources,
    preload: Iterable<string>,
  ): StrictTemplate {
    if (engine.liveInstances !== 0) throw new Error("a template needs an engine module of its own");
    const instance = new SandboxInstance(engine, "template.js", undefined, limits, sources, false);
    const randomAt = findRandomState(instance, engine.memory);
    if (randomAt === undefined) throw new Error("Math.random state not found");
    const template = new StrictTemplate(engine, layout, instance, randomAt, limits.stackKiB);
    template.take(preload);
    return template;
  }

  /** The lazy modules in the snapshot. */
  get modules(): ReadonlySet<string> {
    return this.preloaded;
  }

  /** Bytes each restore copies. */
  get snapshotBytes(): number {
    return this.snapshot.bytes;
  }

  /** Loads more lazy modules into the snapshot (not while busy). */
  extend(modules: Iterable<string>): void {
    if (this.busy) throw new Error("template busy");
    this.reset();
    // Memory above the snapshot's heap holds what runs left there: cleared, so the new snapshot ends where
    // the heap in use does.
    new Uint8Array(this.engine.memory.buffer).fill(0, this.layout.heapBase + this.snapshot.heapBytes);
    this.take(modules);
  }

  private take(modules: Iterable<string>): void {
    const wanted = [...modules].filter((m) => !this.preloaded.has(m));
    this.instance.preload(wanted);
    for (const m of wanted) this.preloaded.add(m);
    for (const m of this.instance.modulesLoaded) this.preloaded.add(m);
    this.state = this.instance.saveState();
    this.wrappers = wrapperState(this.instance);
    this.snapshot = new MemorySnapshot(this.engine.memory, this.layout);
    this.dirty = false;
  }

  /** Back to the snapshot: memory, the instance's host-side state, a new Math.random seed. */
  private reset(): void {
    if (this.dirty) {
      const now = wrapperState(this.instance);
      if (now.some((value, i) => value !== this.wrappers[i])) throw new Error("the engine wrapper changed state during a run");
      this.snapshot.restore();
      this.instance.restoreState(this.state);
      this.dirty = false;
    }
  }

  /**
   * The instance for one run, restored and with `source` loaded: throws a GuestError-shaped object when
   * the script cannot be loaded (the template stays usable), an Error when the template cannot be.
   */
  prepare(fileName: string, source: string, limits: Limits): SandboxInstance {
    this.reset();
    this.dirty = true;
    new DataView(this.engine.memory.buffer).setBigUint64(this.randomAt, freshSeed(), true);
    this.instance.fileName = fileName;
    this.instance.loadScript(source, limits);
    return this.instance;
  }
}
