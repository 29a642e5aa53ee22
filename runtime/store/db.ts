// The storage boundary: a small SQL interface with an embedded (PGlite) and an external (Postgres) implementation.

export type Row = Record<string, unknown>;

/**
 * A statement on a hot path, prepared once per connection on Postgres (parsed and planned once
 * instead of on every call: about half the database's CPU of a KV get+set). `name` must be unique in
 * the process and its text never change; keep it to point lookups and writes by key, whose generic
 * plan is the custom one. PGlite runs the text as usual.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

export interface Queryable {
  query<R extends Row = Row>(sql: string | NamedStatement, params?: readonly unknown[]): Promise<R[]>;
}

/** A NOTIFY to send along with a statement (delivered when its transaction commits). */
export interface Notification {
  readonly channel: string;
  readonly payload: string;
}

/** The state of the LISTEN connection, for /readyz. */
export interface DbHealth {
  readonly listening: boolean;
  readonly error?: string;
}

export interface Db extends Queryable {
  readonly kind: "pglite" | "postgres";
  /** Runs several statements separated by ';' (no parameters); used by migrations. */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Subscribes to a NOTIFY channel; resolves to an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  /** Called each time the LISTEN connection is back after a loss (notifications meanwhile are lost). */
  onReconnect?(handler: () => void): () => void;
  /** Whether change notifications are arriving (PGlite: always). */
  health(): DbHealth;
  /** Embedded PGlite: its WebAssembly memory as allocated now (it never shrinks); absent for Postgres. */
  wasmMemoryBytes?(): number;
  close(): Promise<void>;
}
