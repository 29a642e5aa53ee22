// Per-app key-value storage. Values are JSON; keys are ordered bytewise (collation "C") so
// keyset pagination is stable under concurrent writes on both PGlite and Postgres.
import { PiCloudError } from "../shared/errors.js";
import type { Db, NamedStatement, Notification, Queryable, Row } from "./db.js";
import { type BatchLock, type KvBatchOptions, KvSetBatcher, type UpsertRow } from "./kv-batch.js";
import { ABSENT_VERSION, type CacheTicket, type KvReadCache } from "./kv-cache.js";
import { KV_LOCK_KEY, KV_OWNER_WRITES_KEY, type KvOwnerWrites } from "./kv-ownership.js";

export const KV_LIMITS = {
  keyBytes: 512,
  valueBytes: 1024 * 1024,
  defaultPageSize: 50,
  maxPageSize: 1000,
} as const;

export const COLLECTION_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$";
const COLLECTION = new RegExp(COLLECTION_PATTERN);

export function assertCollection(name: unknown): asserts name is string {
  if (typeof name !== "string" || !COLLECTION.test(name)) {
    throw new PiCloudError(
      "KV_INVALID_COLLECTION",
      `Invalid collection name ${describe(name)}: use 1-128 letters, digits, '_', '-' or '.', not starting with '.' or '-'.`,
    );
  }
}

/** Text the database stores exactly: no NUL, no lone surrogate (UTF-8 would turn it into U+FFFD). */
function storableText(text: string): boolean {
  return !text.includes("\u0000") && (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0 || !storableText(key) || Buffer.byteLength(key) > KV_LIMITS.keyBytes) {
    throw new PiCloudError(
      "KV_INVALID_KEY",
      `Invalid key ${describe(key)}: keys are non-empty strings of at most ${KV_LIMITS.keyBytes} bytes without NUL or lone surrogates.`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `of type ${value === null ? "null" : typeof value}`;
}

export function assertValueJson(json: string): void {
  const bytes = Buffer.byteLength(json);
  if (bytes > KV_LIMITS.valueBytes) {
    throw new PiCloudError("KV_VALUE_TOO_LARGE", `The value is ${bytes} bytes; the limit is ${KV_LIMITS.valueBytes} bytes.`);
  }
}

export type KvOp = "insert" | "update" | "delete";

export interface KvChange {
  readonly app: string;
  readonly collection: string;
  readonly key: string;
  readonly op: KvOp;
  /** The new value as JSON text, or null on delete. */
  readonly valueJson: string | null;
}

/** Where a write comes from: events it triggers carry the chain depth on, so loops are bounded. */
export interface WriteOrigin {
  /** 0 for writes from HTTP requests and the admin API; n+1 for writes by a handler of a depth-n event. */
  readonly chainDepth: number;
}

/** Lets the event system add its outbox rows in the same transaction as the write. */
export interface KvChangeHook {
  /** Cheap, synchronous: may a write to this key produce events? If not, no transaction is opened. */
  mayTrigger(app: string, collection: string, key: string): boolean;
  /** Adds the change's events, if any; what it returns hears how the write ended. */
  onChange(tx: Queryable, change: KvChange, origin: WriteOrigin): Promise<KvChangeEffects | undefined>;
}

/** The events one write added: told whether the write committed (they exist) or failed (they never will). */
export interface KvChangeEffects {
  committed(): void;
  failed(): void;
}

const DIRECT: WriteOrigin = { chainDepth: 0 };

export interface KvPage {
  readonly items: { key: string; valueJson: string }[];
  readonly cursor: string | null;
}

export interface ListOptions {
  readonly limit?: number | undefined;
  readonly cursor?: string | null | undefined;
  readonly prefix?: string | undefined;
}

function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey })).toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (parsed && typeof parsed === "object" && typeof (parsed as { k?: unknown }).k === "string") {
      return (parsed as { k: string }).k;
    }
  } catch {
    // fall through to the coded error
  }
  throw new PiCloudError("KV_INVALID_CURSOR");
}

/** The smallest string greater than every string starting with `prefix`, in code point order (= UTF-8 byte order). */
function prefixUpperBound(prefix: string): string | null {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop() as string;
    const code = last.codePointAt(0) as number;
    if (code < 0x10ffff && !(code >= 0xd7ff && code < 0xe000)) return points.join("") + String.fromCodePoint(code + 1);
  }
  return null;
}

/** Maps Postgres' refusals of a JSON text (e.g. "\u0000" in a string) to a coded caller error. */
function rethrowValueError(error: unknown): never {
  const code = (error as { code?: string }).code;
  if (code === "22P05" || code === "22P02" || code === "22025") {
    throw new PiCloudError("KV_INVALID_VALUE", `The value cannot be stored: ${(error as Error).message}`);
  }
  throw error;
}

export interface KvStoreOptions {
  /** Lets the event system add outbox rows in the same transaction as a write. */
  readonly hook?: KvChangeHook | undefined;
  /** This process's read cache (see kv-cache.ts); absent: every read goes to the database. */
  readonly cache?: KvReadCache | undefined;
  /**
   * The NOTIFY that tells other processes' caches about a write to this key, sent by the write's
   * own statement. Given whenever other processes may share the database, cache or not here; undefined
   * for a write that needs none (this process owns the database).
   */
  readonly notification?: ((app: string, collection: string, key: string) => Notification | undefined) | undefined;
  /**
   * Whether a write must prove in its own statement that no process owns the database (store/kv-ownership.ts):
   * it takes the KV writers' lock shared for its transaction, and fails DATABASE_OWNED if it cannot. On
   * Postgres, for every write but an owner's.
   */
  readonly guarded?: (() => boolean) | undefined;
  /**
   * Postgres with the lock: an owner's writes (not guarded) take the owner-writes key shared, refused
   * while a next owner fences, and commit only while kv_owner_lease names `owner.holder`; a refused
   * one asks `owner.confirm()` (store/kv-ownership.ts) before it is tried again.
   */
  readonly owner?: KvOwnerWrites | undefined;
  /**
   * Group commit of concurrent sets that cannot trigger events (store/kv-batch.ts): queued while
   * `inFlight` batches are out, then sent as one statement. Absent: every set is its own statement.
   */
  readonly batch?: KvBatchOptions | undefined;
}

const SELECT_VALUE: NamedStatement = {
  name: "picloud_kv_get",
  text: "select value::text as value, version from kv where app_id = $1 and collection = $2 and key = $3",
};
const HAS: NamedStatement = { name: "picloud_kv_has", text: "select 1 from kv where app_id = $1 and collection = $2 and key = $3" };
/**
 * `version` is drawn again under the row lock on update (the insert's default is drawn before any
 * wait). `stored`: the value as the database keeps it (jsonb orders keys), for the cache, when $5.
 */
const UPSERT_TEXT = `insert into kv (app_id, collection, key, value) values ($1, $2, $3, $4::jsonb)
  on conflict (app_id, collection, key) do update set value = excluded.value, updated_at = now(), version = nextval('kv_version')
  returning (xmax = 0) as inserted, version, case when $5::boolean then value::text end as stored`;
const UPSERT: NamedStatement = { name: "picloud_kv_set", text: UPSERT_TEXT };
/** The same in one round trip with the NOTIFY, which Postgres delivers when the write commits. */
const UPSERT_NOTIFY: NamedStatement = {
  name: "picloud_kv_set_notify",
  text: `with w as (${UPSERT_TEXT}) select inserted, version, stored, pg_notify($6, $7) from w`,
};
const DELETE_TEXT = "delete from kv where app_id = $1 and collection = $2 and key = $3 returning key";
const DELETE: NamedStatement = { name: "picloud_kv_delete", text: DELETE_TEXT };
const DELETE_NOTIFY: NamedStatement = {
  name: "picloud_kv_delete_notify",
  text: `with d as (${DELETE_TEXT}) select key, pg_notify($4, $5) from d`,
};

/**
 * The guarded forms: `g.ok` says whether the statement may write (`guard`: an expression, given the
 * placeholder of a parameter after the statement's own when it takes one); if not, they write nothing.
 * An upsert always returns its row, so none means refused; a delete returns one row with `ok` and the
 * deleted `key` (null: absent).
 */
function guardedStatements(suffix: string, lockKey: number, guard: (param: string) => string) {
  const g = (n: number) => `g as (select ${guard(`$${n}`)} as ok)`;
  const upsertText = UPSERT_TEXT.replace("values ($1, $2, $3, $4::jsonb)", "select $1, $2, $3, $4::jsonb from g where g.ok");
  const deleteText = "delete from kv using g where g.ok and app_id = $1 and collection = $2 and key = $3 returning key";
  return {
    /** The advisory key the statements take shared (the set batcher takes it for a batch too). */
    lockKey,
    upsert: { name: `picloud_kv_set_${suffix}`, text: `with ${g(6)} ${upsertText}` } as NamedStatement,
    upsertNotify: {
      name: `picloud_kv_set_notify_${suffix}`,
      text: `with ${g(8)}, w as (${upsertText}) select inserted, version, stored, pg_notify($6, $7) from w`,
    } as NamedStatement,
    delete: {
      name: `picloud_kv_delete_${suffix}`,
      text: `with ${g(4)}, d as (${deleteText}) select g.ok, d.key from g left join d on true`,
    } as NamedStatement,
    deleteNotify: {
      name: `picloud_kv_delete_notify_${suffix}`,
      text: `with ${g(6)}, d as (${deleteText})
    select g.ok, d.key, case when d.key is not null then pg_notify($4, $5) end as notified from g left join d on true`,
    } as NamedStatement,
  };
}
/** A write by a process that does not own the database: the KV writers' lock shared. */
const GUARDED = guardedStatements("guarded", KV_LOCK_KEY, () => `pg_try_advisory_xact_lock_shared(${KV_LOCK_KEY}::bigint)`);
/**
 * An owner's write (migration 16): the owner-writes key shared, so that a next owner can wait out
 * every write of this one still in flight (kv-ownership.ts) before it trusts its cache, then, looked
 * up after the key was granted, kv_owner_lease still names this process (the last parameter), so
 * that no write sent after a next owner's fence commits: that owner replaced or deleted the row first.
 */
const OWNER = guardedStatements(
  "owner",
  KV_OWNER_WRITES_KEY,
  (holder) => `picloud_kv_owner_may_write(${KV_OWNER_WRITES_KEY}::bigint, ${holder}::text)`,
);

/** Tries of a refused guarded write after the first: 10, 20, 40, 80 and 160 ms apart. */
const REFUSED_WRITE_RETRIES = 5;

function ownedElsewhere(): never {
  throw new PiCloudError(
    "DATABASE_OWNED",
    "Another PiCloud process ('picloud serve') owns this database's KV data now: this process may not write KV to it.",
  );
}

export class KvStore {
  private readonly hook: KvChangeHook | undefined;
  private readonly cache: KvReadCache | undefined;
  private readonly notification: KvStoreOptions["notification"];
  private readonly guarded: () => boolean;
  private readonly owner: KvOwnerWrites | undefined;
  private readonly batcher: KvSetBatcher | undefined;

  constructor(
    /** The main thread's Db, or an executor worker's own pool (executor/worker-kv.ts). */
    private readonly db: Pick<Db, "query" | "transaction">,
    options: KvStoreOptions = {},
  ) {
    this.hook = options.hook;
    this.cache = options.cache;
    this.notification = options.notification;
    this.guarded = options.guarded ?? (() => false);
    this.owner = options.owner;
    this.batcher = options.batch ? new KvSetBatcher(db, () => this.batchLock(), options.batch) : undefined;
  }

  async get(app: string, collection: string, key: string): Promise<string | null> {
    assertCollection(collection);
    assertKey(key);
    const cache = this.cache;
    const cached = cache?.peek(app, collection, key);
    if (cached !== undefined) return cached;
    const ticket = cache?.begin(app, collection, key);
    let rows: { value: string; version: string | number }[];
    try {
      rows = await this.db.query<{ value: string; version: string | number }>(SELECT_VALUE, [app, collection, key]);
    } catch (error) {
      if (ticket) cache?.abandon(ticket);
      throw error;
    }
    const row = rows[0];
    if (ticket) cache?.offer(ticket, row ? row.value : null, row ? Number(row.version) : ABSENT_VERSION);
    return row?.value ?? null;
  }

  async has(app: string, collection: string, key: string): Promise<boolean> {
    assertCollection(collection);
    assertKey(key);
    const cached = this.cache?.peek(app, collection, key);
    if (cached !== undefined) return cached !== null;
    const rows = await this.db.query(HAS, [app, collection, key]);
    return rows.length > 0;
  }

  /** Stores a JSON text; returns whether the key was inserted or updated. */
  async set(app: string, collection: string, key: string, valueJson: string, origin: WriteOrigin = DIRECT): Promise<KvOp> {
    assertCollection(collection);
    assertKey(key);
    assertValueJson(valueJson);
    const cache = this.cache;
    // Asked at each try: an owner sends none, and a refused owner's write retried guarded must.
    const notification = () => this.notification?.(app, collection, key);
    const wantStored = cache?.accepts(valueJson) ?? false;
    const params = [app, collection, key, valueJson, wantStored];
    const ticket = cache?.beginWrite(app, collection, key);
    const single = (q: Queryable) =>
      this.guardedWrite(async (guarded) => {
        const forms = this.writeForms(guarded);
        const notify = notification();
        const statement = notify ? (forms?.upsertNotify ?? UPSERT_NOTIFY) : (forms?.upsert ?? UPSERT);
        const values = notify ? [...params, notify.channel, notify.payload] : params;
        const rows = await q.query<UpsertRow & Row>(statement, this.withHolder(forms, values)).catch(rethrowValueError);
        return rows[0] as UpsertRow | undefined;
      });
    const upsert = async (q: Queryable, inTransaction: boolean) => {
      const row =
        this.batcher && !inTransaction
          ? await this.batcher.set({ app, collection, key, valueJson, wantStored, notification, alone: () => single(q) })
          : await single(q);
      return { result: row, change: { app, collection, key, op: row.inserted ? "insert" : "update", valueJson } as const };
    };
    const row = await this.write({ app, collection, key, origin, ticket }, upsert, (written) => {
      if (ticket) cache?.offer(ticket, written.stored ?? undefined, Number(written.version), written.inserted);
    });
    return row.inserted ? "insert" : "update";
  }

  /** Returns whether the key was present. */
  async delete(app: string, collection: string, key: string, origin: WriteOrigin = DIRECT): Promise<boolean> {
    assertCollection(collection);
    assertKey(key);
    const ticket = this.cache?.beginDelete(app, collection, key);
    const remove = async (q: Queryable) => {
      const existed = await this.guardedWrite(async (guarded) => {
        const forms = this.writeForms(guarded);
        // Asked at each try, as a set's.
        const notify = this.notification?.(app, collection, key);
        const params = notify ? [app, collection, key, notify.channel, notify.payload] : [app, collection, key];
        if (!forms) return (await q.query(notify ? DELETE_NOTIFY : DELETE, params)).length > 0;
        const statement = notify ? forms.deleteNotify : forms.delete;
        const [row] = await q.query<{ ok: boolean; key: string | null }>(statement, this.withHolder(forms, params));
        return row?.ok ? row.key !== null : undefined;
      });
      return { result: existed, change: existed ? ({ app, collection, key, op: "delete", valueJson: null } as const) : undefined };
    };
    return this.write({ app, collection, key, origin, ticket }, remove, () => {
      if (ticket) this.cache?.endDelete(ticket);
    });
  }

  /** A write's statements: guarded when it must prove no process owns the database, the owner's, or the plain ones (undefined). */
  private writeForms(guarded: boolean): typeof GUARDED | undefined {
    return guarded ? GUARDED : this.owner ? OWNER : undefined;
  }

  /** What a batch sent now must prove: the same choice as a single write's. */
  private batchLock(): BatchLock | undefined {
    const forms = this.writeForms(this.guarded());
    if (!forms) return undefined;
    return forms === OWNER && this.owner ? { key: forms.lockKey, holder: this.owner.holder } : { key: forms.lockKey };
  }

  /** The owner's forms take this process's name in kv_owner_lease as their last parameter. */
  private withHolder(forms: typeof GUARDED | undefined, params: unknown[]): unknown[] {
    return forms === OWNER && this.owner ? [...params, this.owner.holder] : params;
  }

  /**
   * Runs a write's statement, guarded unless this process owns the database; undefined from `run`: a
   * guarded statement was refused. Refused because this process became the owner meanwhile (its lock
   * came back between the choice and the statement): run again as the owner's. Refused otherwise: the
   * holder may be this process's own lock backend, ending after its connection was terminated (the
   * process hears of that before the backend releases the lock), so a few more tries over ~0.3 s
   * before DATABASE_OWNED. An owner's write refused (a next owner waits out the writes in flight, or
   * this process's own fence holds the owner-writes key for a moment, or kv_owner_lease no longer
   * names this process) first has the lock proven on the lock connection (`owner.confirm()`): still
   * held, the row is recorded again and the write has the same tries; gone (another process took the
   * database over before this one heard), this process is no longer the owner, and the write goes
   * again at once, guarded, as any other process's.
   */
  private async guardedWrite<T>(run: (guarded: boolean) => Promise<T | undefined>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const guarded = this.guarded();
      const result = await run(guarded);
      if (result !== undefined) return result;
      if (attempt >= REFUSED_WRITE_RETRIES) ownedElsewhere();
      if (!guarded) await this.owner?.confirm();
      // Refused as guarded and the owner now, or as the owner's and guarded now: again at once.
      if (this.guarded() === guarded) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
    }
  }

  /**
   * Runs one write: in a transaction with the hook's outbox rows when the key may trigger events,
   * alone otherwise. A failure (before, during or after the commit) leaves the key unknown to the
   * cache; on success `committed` tells the cache before any event handler can run and read the key.
   */
  private async write<T>(
    target: { app: string; collection: string; key: string; origin: WriteOrigin; ticket: CacheTicket | undefined },
    statement: (q: Queryable, inTransaction: boolean) => Promise<{ result: T; change: KvChange | undefined }>,
    committed: (result: T) => void,
  ): Promise<T> {
    let produced: KvChangeEffects | undefined;
    const run = async (q: Queryable, inTransaction: boolean): Promise<T> => {
      const { result, change } = await statement(q, inTransaction);
      if (change && this.hook) produced = await this.hook.onChange(q, change, target.origin);
      return result;
    };
    let result: T;
    try {
      result = this.hook?.mayTrigger(target.app, target.collection, target.key)
        ? await this.db.transaction((tx) => run(tx, true))
        : await run(this.db, false);
    } catch (error) {
      if (target.ticket) this.cache?.fail(target.ticket);
      produced?.failed();
      throw error;
    }
    committed(result);
    produced?.committed();
    return result;
  }

  async list(app: string, collection: string, options: ListOptions = {}): Promise<KvPage> {
    assertCollection(collection);
    const limit = options.limit ?? KV_LIMITS.defaultPageSize;
    if (!Number.isInteger(limit) || limit < 1 || limit > KV_LIMITS.maxPageSize) {
      throw new PiCloudError("VALIDATION_FAILED", `limit must be an integer from 1 to ${KV_LIMITS.maxPageSize}.`);
    }
    const prefix = options.prefix ?? "";
    if (typeof prefix !== "string") throw new PiCloudError("VALIDATION_FAILED", "prefix must be a string.");
    if (!storableText(prefix)) throw new PiCloudError("KV_INVALID_KEY", `Invalid prefix ${describe(prefix)}: no NUL or lone surrogates.`);
    const after = options.cursor ? decodeCursor(options.cursor) : null;
    const upper = prefix ? prefixUpperBound(prefix) : null;
    const rows = await this.db.query<{ key: string; value: string }>(
      `select key, value::text as value from kv
       where app_id = $1 and collection = $2
         and ($3::text is null or key > $3)
         and key >= $4 and ($5::text is null or key < $5)
       order by key limit $6`,
      [app, collection, after, prefix, upper, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => ({ key: r.key, valueJson: r.value })),
      cursor: rows.length > limit && last ? encodeCursor(last.key) : null,
    };
  }

  async collections(app: string): Promise<{ name: string; count: number }[]> {
    const rows = await this.db.query<{ collection: string; count: number }>(
      "select collection, count(*)::int as count from kv where app_id = $1 group by collection order by collection",
      [app],
    );
    return rows.map((r) => ({ name: r.collection, count: r.count }));
  }
}
