// Group commit for KV sets: while a set is in flight, further sets on the same KvStore (any
// invocation, any app) queue, and when a slot frees everything queued goes to the database as one
// call of `picloud_kv_set_many` (migration 013): one statement, one round trip, one commit (one WAL
// flush) for the lot. No timer: with a slot free a set goes at once, so at low load nothing waits.
// Each member gets what its own statement would have returned (inserted, its own version, the stored
// text), applied in queue order, so the read cache's tickets stay exact.
import type { Notification, Queryable, Row } from "./db.js";

export interface UpsertRow {
  inserted: boolean;
  version: string | number;
  stored: string | null;
}

/** One queued set, with its own single-statement path (guarded, retried) for when it cannot go in a batch. */
export interface BatchMember {
  readonly app: string;
  readonly collection: string;
  readonly key: string;
  readonly valueJson: string;
  /** Return the stored text (the cache takes it). */
  readonly wantStored: boolean;
  /** The NOTIFY it sends, asked when its batch goes (a set queued as the owner's may go guarded). */
  readonly notification: () => Notification | undefined;
  readonly alone: () => Promise<UpsertRow>;
}

export interface KvBatchOptions {
  /** Batches (or lone sets) in flight at once; more sets queue. */
  readonly inFlight: number;
  /** Members per batch at most. */
  readonly maxMembers: number;
  /** Value bytes (JSON text length) per batch at most; a batch takes at least one member. */
  readonly maxChars: number;
}

export const DEFAULT_KV_BATCH: KvBatchOptions = { inFlight: 1, maxMembers: 64, maxChars: 1024 * 1024 };

/** The batching a process uses: `inFlight` as configured (0: off), else the default. */
export function kvBatchOptions(inFlight: number | undefined): KvBatchOptions | undefined {
  const n = inFlight ?? DEFAULT_KV_BATCH.inFlight;
  return n > 0 ? { ...DEFAULT_KV_BATCH, inFlight: n } : undefined;
}

const SET_MANY = {
  name: "picloud_kv_set_many",
  text: "select r_inserted as inserted, r_version as version, r_stored as stored from picloud_kv_set_many($1, $2, $3, $4, $5, $6, $7, $8)",
};
/** An owner's batch (migration 16): refused too unless kv_owner_lease names $9, as an owner's single write (kv.ts). */
const SET_MANY_OWNER = {
  name: "picloud_kv_set_many_owner",
  text: "select r_inserted as inserted, r_version as version, r_stored as stored from picloud_kv_set_many($1, $2, $3, $4, $5, $6, $7, $8, $9)",
};

/** What a batch must prove: the advisory key it takes shared, and for an owner's, its name in kv_owner_lease. */
export interface BatchLock {
  readonly key: number;
  readonly holder?: string;
}

/**
 * Whether a failed batch is retried member by member: any refusal by the database (a SQLSTATE) rolled
 * back sets that alone might well succeed (one member's JSON text, its app deleted meanwhile — the
 * foreign key —, a deadlock), so each runs alone then and fails only itself. Not when the connection
 * or the server is the trouble (classes 08, 53, 57, 58): every member would fail alike.
 */
function retryAlone(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !/^(08|53|57|58)/.test(code);
}

/** Taken sets kept at the queue's head before it is compacted (it resets whenever it empties). */
const COMPACT_AFTER = 256;

interface Queued extends BatchMember {
  resolve(row: UpsertRow): void;
  reject(error: unknown): void;
}

export class KvSetBatcher {
  private queue: Queued[] = [];
  private head = 0;
  private running = 0;

  constructor(
    private readonly db: Queryable,
    /** What a write must prove now (the guarded or owner forms), or undefined. */
    private readonly lock: () => BatchLock | undefined,
    private readonly options: KvBatchOptions = DEFAULT_KV_BATCH,
  ) {}

  set(member: BatchMember): Promise<UpsertRow> {
    return new Promise<UpsertRow>((resolve, reject) => {
      this.queue.push({ ...member, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.options.inFlight && this.head < this.queue.length) {
      const batch = this.take();
      this.running++;
      void this.send(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private take(): Queued[] {
    const batch: Queued[] = [];
    let chars = 0;
    while (this.head < this.queue.length && batch.length < this.options.maxMembers) {
      const next = this.queue[this.head] as Queued;
      if (batch.length > 0 && chars + next.valueJson.length > this.options.maxChars) break;
      chars += next.valueJson.length;
      batch.push(next);
      this.head++;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      // Under steady load the queue may never empty: drop the sets already taken, or it would keep every one.
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    // Every batch (of every process) locks its rows in one order, so two batches in flight cannot
    // deadlock; the sort is stable, so the sets of one key keep their queue order.
    return batch.sort(byRow);
  }

  private async send(batch: Queued[]): Promise<void> {
    if (batch.length === 1) return settle(batch[0] as Queued);
    let rows: (UpsertRow & Row)[];
    const lock = this.lock();
    const notices = batch.map((m) => m.notification());
    const params = [
      batch.map((m) => m.app),
      batch.map((m) => m.collection),
      batch.map((m) => m.key),
      batch.map((m) => m.valueJson),
      batch.map((m) => m.wantStored),
      lock?.key ?? null,
      notices.map((n) => n?.channel ?? null),
      notices.map((n) => n?.payload ?? null),
    ];
    try {
      rows = await this.db.query<UpsertRow & Row>(
        lock?.holder === undefined ? SET_MANY : SET_MANY_OWNER,
        lock?.holder === undefined ? params : [...params, lock.holder],
      );
    } catch (error) {
      if (retryAlone(error)) return settleAll(batch);
      for (const member of batch) member.reject(error);
      return;
    }
    // No rows: refused (the advisory key, or the owner's row); each takes its own path, which retries
    // (an owner's proving its lock first) and raises DATABASE_OWNED.
    if (rows.length === 0) return settleAll(batch);
    if (rows.length !== batch.length) {
      const error = new Error(`picloud_kv_set_many returned ${rows.length} rows for ${batch.length} sets`);
      for (const member of batch) member.reject(error);
      return;
    }
    for (const [i, member] of batch.entries()) member.resolve(rows[i] as UpsertRow);
  }
}

function byRow(a: BatchMember, b: BatchMember): number {
  return compare(a.app, b.app) || compare(a.collection, b.collection) || compare(a.key, b.key);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function settle(member: Queued): Promise<void> {
  try {
    member.resolve(await member.alone());
  } catch (error) {
    member.reject(error);
  }
}

async function settleAll(batch: Queued[]): Promise<void> {
  await Promise.all(batch.map(settle));
}
