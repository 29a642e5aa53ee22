// A node-local read cache for KV values, so a script's `get` needs no database round trip when the
// value is known. It is exact for this process's own writes and, for other processes' writes on a
// shared Postgres, stale for at most the time their change notification takes to arrive.
//
// Ordering without locks: every row carries a version from one database sequence, drawn again by
// each update under the row lock, so within a row's life a later commit has a higher version. A
// value read or written is offered with its version, and an offer only replaces an older one.
// Versions do not order different lives of a key (an insert draws its version before it waits for
// a conflicting delete), so deletes, changes by other processes and failed writes are barriers:
// they bump the key's epoch, and an operation that began before a barrier offers nothing when it
// ends; an insert that finds a higher version cached is a barrier too. A write that ends after a
// barrier is itself one: a read that began after that barrier may have seen the state before the
// write committed, and the write's own (newer) offer no longer counts to outrank it.
export interface KvCacheOptions {
  /** Upper bound of cached keys plus values, in bytes (UTF-16 length x 2, an estimate). */
  readonly maxBytes: number;
  /** Values longer than this (JSON text length) are not cached. */
  readonly maxValueChars?: number;
  /** False while changes made by other processes may go unheard (their LISTEN connection is away): the cache is bypassed. */
  readonly live: () => boolean;
  /**
   * Asked instead of `live` before a read is answered from the cache (default: `live`): an owning `serve`
   * answers only under its lease (store/kv-ownership.ts). Called on every cached read: no I/O.
   */
  readonly serving?: () => boolean;
}

interface Entry {
  readonly id: string;
  /** The cached JSON text; null: the key is absent; undefined: nothing cached. */
  value: string | null | undefined;
  /** The cached value's version; when nothing is cached, the floor an offer must reach (kept on eviction). */
  version: number;
  /** Bumped by every barrier (delete, remote change, failed write). */
  epoch: number;
  /** Operations on this key in flight: the entry is kept while any is. */
  busy: number;
  /** Operations begun on this key so far: tells a delete whether anything overlapped it. */
  begun: number;
  bytes: number;
}

/** What an operation took when it began, to offer its result when it ends. */
export interface CacheTicket {
  readonly entry: Entry;
  readonly epoch: number;
  readonly begun: number;
  /** Operations in flight on the key when this one began, itself included. */
  readonly busy: number;
  /** An upsert: ending after a barrier makes it one (see the opening comment). */
  readonly write: boolean;
}

/** The version of "absent": below every stored row's. */
export const ABSENT_VERSION = -1;
/** The floor after a barrier: anything may be cached next. */
const NO_VERSION = Number.NEGATIVE_INFINITY;
const DEFAULT_MAX_VALUE_CHARS = 64 * 1024;
/** A rough per-entry overhead (the Map slot and the object), counted against maxBytes. */
const ENTRY_OVERHEAD = 96;

/** Counts since the cache was made, for /metrics. */
export interface KvCacheCounts {
  /** Reads answered from the cache. */
  readonly hits: number;
  /** Reads that went to the database (nothing cached, or the cache stood aside). */
  readonly misses: number;
  /** Values dropped to stay within maxBytes. */
  readonly evictions: number;
}

export class KvReadCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxValueChars: number;
  private readonly serving: () => boolean;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(private readonly options: KvCacheOptions) {
    this.maxValueChars = options.maxValueChars ?? DEFAULT_MAX_VALUE_CHARS;
    this.serving = options.serving ?? options.live;
  }

  /** The cached value (null: known absent), or undefined when it must be read from the database. */
  peek(app: string, collection: string, key: string): string | null | undefined {
    const entry = this.entries.get(entryId(app, collection, key));
    if (entry?.value === undefined || !this.serving()) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Most recently used last: eviction takes from the front.
    this.entries.delete(entry.id);
    this.entries.set(entry.id, entry);
    return entry.value;
  }

  /** Starts a read of the key; end it with `offer` (it succeeded) or `abandon`. */
  begin(app: string, collection: string, key: string): CacheTicket {
    return this.track(app, collection, key, false);
  }

  /** Starts an upsert of the key; end it with `offer` (it committed) or `fail`. */
  beginWrite(app: string, collection: string, key: string): CacheTicket {
    return this.track(app, collection, key, true);
  }

  private track(app: string, collection: string, key: string, write: boolean): CacheTicket {
    const id = entryId(app, collection, key);
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { id, value: undefined, version: NO_VERSION, epoch: 0, busy: 0, begun: 0, bytes: 0 };
      this.entries.set(id, entry);
    }
    entry.busy++;
    entry.begun++;
    return { entry, epoch: entry.epoch, begun: entry.begun, busy: entry.busy, write };
  }

  /** Whether a value of this JSON text is small enough to be cached (else a write need not send it back). */
  accepts(valueJson: string): boolean {
    return valueJson.length <= this.maxValueChars;
  }

  /**
   * Ends an operation that saw `value` at `version`: a read's row (null and ABSENT_VERSION when
   * there was none) or an upsert's new row (`inserted`: it began the row's life). `value` undefined:
   * the version is known but not the text (too large to cache).
   */
  offer(ticket: CacheTicket, value: string | null | undefined, version: number, inserted = false): void {
    const { entry } = ticket;
    entry.busy--;
    if (this.isCurrent(ticket)) {
      if (inserted && entry.version > version) {
        // The cached version belongs to a later update of this insert or to an earlier life of the key: unknown which.
        this.barrier(entry);
      } else if (version > entry.version || (version === entry.version && entry.value === undefined)) {
        if (value === undefined || (value !== null && value.length > this.maxValueChars)) {
          this.drop(entry);
          entry.version = version;
        } else this.store(entry, value, version);
      }
    } else if (ticket.write) {
      this.barrier(entry);
    }
    this.settle(entry);
  }

  /** Ends a read that failed: nothing learned, nothing changed. */
  abandon(ticket: CacheTicket): void {
    ticket.entry.busy--;
    this.settle(ticket.entry);
  }

  /** Ends an operation whose outcome is unknown (it failed: the write may or may not have committed). */
  fail(ticket: CacheTicket): void {
    ticket.entry.busy--;
    this.barrier(ticket.entry);
    this.settle(ticket.entry);
  }

  /** Starts a delete: a barrier now, and another when it ends. */
  beginDelete(app: string, collection: string, key: string): CacheTicket {
    const ticket = this.track(app, collection, key, true);
    this.barrier(ticket.entry);
    return { ...ticket, epoch: ticket.entry.epoch };
  }

  /** Ends a delete that committed: the key is known absent if nothing else on this key overlapped it. */
  endDelete(ticket: CacheTicket): void {
    const { entry } = ticket;
    entry.busy--;
    const alone = ticket.busy === 1 && entry.busy === 0 && entry.begun === ticket.begun && this.isCurrent(ticket);
    this.barrier(entry);
    if (alone) this.store(entry, null, ABSENT_VERSION);
    this.settle(entry);
  }

  /** Another process changed the key. */
  invalidate(app: string, collection: string, key: string): void {
    const entry = this.entries.get(entryId(app, collection, key));
    if (!entry) return;
    this.barrier(entry);
    this.settle(entry);
  }

  /** The app was deleted or changed: none of its keys may be trusted. */
  invalidateApp(app: string): void {
    const prefix = `${app}\u0000`;
    for (const entry of [...this.entries.values()]) {
      if (!entry.id.startsWith(prefix)) continue;
      this.barrier(entry);
      this.settle(entry);
    }
  }

  /** Changes may have been missed (the LISTEN connection was away): forget everything. */
  clear(): void {
    for (const entry of [...this.entries.values()]) {
      this.barrier(entry);
      this.settle(entry);
    }
  }

  /** Keys tracked (cached or in flight) and the bytes counted for them, for tests and metrics. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  counts(): KvCacheCounts {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions };
  }

  private isCurrent(ticket: CacheTicket): boolean {
    return this.entries.get(ticket.entry.id) === ticket.entry && ticket.entry.epoch === ticket.epoch && this.options.live();
  }

  private barrier(entry: Entry): void {
    entry.epoch++;
    this.drop(entry);
    entry.version = NO_VERSION;
  }

  /** Forgets the value but keeps its version as the floor: a slower read of an older version cannot come back. */
  private drop(entry: Entry): void {
    this.bytes -= entry.bytes;
    entry.bytes = 0;
    entry.value = undefined;
  }

  private store(entry: Entry, value: string | null, version: number): void {
    this.bytes -= entry.bytes;
    entry.value = value;
    entry.version = version;
    entry.bytes = ENTRY_OVERHEAD + 2 * (entry.id.length + (value?.length ?? 0));
    this.bytes += entry.bytes;
    this.entries.delete(entry.id);
    this.entries.set(entry.id, entry);
    this.evict();
  }

  /** An entry with nothing cached and nothing in flight is forgotten (with its floor: no operation can offer to it any more). */
  private settle(entry: Entry): void {
    if (entry.busy === 0 && entry.value === undefined && this.entries.get(entry.id) === entry) this.entries.delete(entry.id);
  }

  private evict(): void {
    if (this.bytes <= this.options.maxBytes) return;
    for (const entry of this.entries.values()) {
      if (entry.value === undefined) continue;
      this.drop(entry);
      this.settle(entry);
      this.evictions++;
      if (this.bytes <= this.options.maxBytes) return;
    }
  }
}

/** NUL cannot occur in app ids, collection names or keys (see kv.ts), so it separates them. */
function entryId(app: string, collection: string, key: string): string {
  return `${app}\u0000${collection}\u0000${key}`;
}
