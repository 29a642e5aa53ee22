// Where a server's resident memory goes: its own figures (GET /metrics, picloud_memory_bytes) and
// the kernel's (/proc/<pid>/smaps), so that the parts add up to RSS. Linux only, like the RSS figures.
import { readFileSync } from "node:fs";

export interface MemoryBreakdown {
  readonly rssMiB: number;
  /** The main thread's V8 heap, resident (of it, the young generation). */
  readonly mainHeapMiB: number;
  readonly newSpaceMiB: number;
  /** The executor threads' V8 heaps, resident. */
  readonly workerHeapsMiB: number;
  /** PGlite's WebAssembly memory: resident pages of its mapping (allocated size in brackets). */
  readonly pgliteWasmMiB: number;
  readonly pgliteWasmAllocatedMiB: number;
  /** Every other WebAssembly memory: QuickJS modules in workers and inline on the main thread, resident. */
  readonly enginesMiB: number;
  /** File-backed pages: the node binary and shared libraries. */
  readonly codeMiB: number;
  /** The rest: malloc (buffers, PGlite's in-memory files, compiled WASM code), thread stacks. */
  readonly otherMiB: number;
}

const MiB = 1024 * 1024;
const round = (bytes: number) => Math.round(bytes / MiB);

interface Mapping {
  readonly size: number;
  readonly perms: string;
  readonly path: string;
  rss: number;
}

function mappings(pid: number): Mapping[] {
  const list: Mapping[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      list.push({
        size: Number.parseInt(head[2] as string, 16) - Number.parseInt(head[1] as string, 16),
        perms: head[3] as string,
        path: head[4] ?? "",
        rss: 0,
      });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    const last = list.at(-1);
    if (rss && last) last.rss = Number(rss[1]) * 1024;
  }
  return list;
}

/**
 * V8 places each WebAssembly memory at the start of a reservation of several GiB: the accessible part
 * is an anonymous read-write mapping directly followed by an inaccessible guard region.
 */
function wasmMemories(list: readonly Mapping[]): Mapping[] {
  return list.filter((m, i) => {
    const next = list[i + 1];
    const guarded = next?.perms.startsWith("---") && (next?.size ?? 0) >= 1024 * MiB;
    return m.path === "" && m.perms.startsWith("rw") && guarded === true;
  });
}

function metricsOf(text: string): Map<string, number> {
  const figures = new Map<string, number>();
  for (const [, kind, value] of text.matchAll(/^picloud_memory_bytes\{kind="([^"]+)"\} (\S+)$/gm))
    figures.set(kind as string, Number(value));
  return figures;
}

export async function memoryBreakdown(base: string, token: string, pid: number): Promise<MemoryBreakdown> {
  const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const figures = metricsOf(await response.text());
  const list = mappings(pid);
  const rss = list.reduce((n, m) => n + m.rss, 0);
  const allocated = figures.get("pglite_wasm") ?? 0;
  const wasm = wasmMemories(list);
  // PGlite's memory is the one mapping of exactly its allocated size (QuickJS modules are far smaller).
  const pglite = wasm.find((m) => allocated > 0 && m.size === allocated);
  const engines = wasm.filter((m) => m !== pglite).reduce((n, m) => n + m.rss, 0);
  const code = list.filter((m) => m.path.startsWith("/")).reduce((n, m) => n + m.rss, 0);
  const mainHeap = figures.get("heap_resident") ?? 0;
  const workerHeaps = figures.get("worker_heaps") ?? 0;
  const known = mainHeap + workerHeaps + (pglite?.rss ?? 0) + engines + code;
  return {
    rssMiB: round(rss),
    mainHeapMiB: round(mainHeap),
    newSpaceMiB: round(figures.get("new_space") ?? 0),
    workerHeapsMiB: round(workerHeaps),
    pgliteWasmMiB: round(pglite?.rss ?? 0),
    pgliteWasmAllocatedMiB: round(allocated),
    enginesMiB: round(engines),
    codeMiB: round(code),
    otherMiB: round(rss - known),
  };
}

/** One table cell: the parts in MiB. */
export function formatBreakdown(b: MemoryBreakdown): string {
  const pglite = b.pgliteWasmAllocatedMiB > 0 ? ` · PGlite WASM ${b.pgliteWasmMiB} (of ${b.pgliteWasmAllocatedMiB} allocated)` : "";
  return (
    `RSS ${b.rssMiB} = main heap ${b.mainHeapMiB} (young ${b.newSpaceMiB}) · worker heaps ${b.workerHeapsMiB} · ` +
    `QuickJS memories ${b.enginesMiB}${pglite} · code ${b.codeMiB} · other ${b.otherMiB}`
  );
}
