// The runs in flight on one worker, by id: an open-addressing table (linear probing, deletion by
// backward shift) whose arrays are replaced only when it grows. A Map of the same runs allocated a new
// hash table every few hundred insertions and deletions, and V8 keeps a superseded table pointing at
// the entries it held: each one in the old generation promoted the runs it pointed at, with their
// promises and callers (docs/architecture.md, "Garbage collection"). Here a settled run's cell is
// emptied in place, so nothing keeps a run once it has settled.

/** Ids are positive; 0 marks an empty cell. */
const EMPTY = 0;

export class RunTable<T> {
  private ids: Float64Array;
  private values: (T | undefined)[];
  private mask: number;
  private count = 0;

  constructor(capacity = 64) {
    let size = 8;
    while (size < capacity * 2) size *= 2;
    this.ids = new Float64Array(size);
    this.values = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    const { ids, mask } = this;
    for (let i = id & mask; ; i = (i + 1) & mask) {
      const found = ids[i] as number;
      if (found === id) return this.values[i];
      if (found === EMPTY) return undefined;
    }
  }

  /** `id` must be positive and not in the table. */
  set(id: number, value: T): void {
    if ((this.count + 1) * 2 > this.ids.length) this.grow();
    const { ids, mask } = this;
    let i = id & mask;
    while (ids[i] !== EMPTY) i = (i + 1) & mask;
    ids[i] = id;
    this.values[i] = value;
    this.count++;
  }

  delete(id: number): boolean {
    const { ids, values, mask } = this;
    let i = id & mask;
    for (;;) {
      const found = ids[i] as number;
      if (found === id) break;
      if (found === EMPTY) return false;
      i = (i + 1) & mask;
    }
    this.count--;
    // Backward shift: move later entries of the same probe run into the hole, so lookups never need tombstones.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const next = ids[j] as number;
      if (next === EMPTY) break;
      const home = next & mask;
      // `next` may fill the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      ids[i] = next;
      values[i] = values[j];
      i = j;
    }
    ids[i] = EMPTY;
    values[i] = undefined;
    return true;
  }

  /** The ids in the table (in no particular order). */
  keys(): number[] {
    const keys: number[] = [];
    for (const id of this.ids) if (id !== EMPTY) keys.push(id);
    return keys;
  }

  private grow(): void {
    const { ids, values } = this;
    this.ids = new Float64Array(ids.length * 2);
    this.values = new Array<T | undefined>(ids.length * 2).fill(undefined);
    this.mask = ids.length * 2 - 1;
    this.count = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== EMPTY) this.set(ids[i] as number, values[i] as T);
  }
}
