// The storage boundary: a small SQL interface with an embedded (PGlite) and an external (Postgres) implementation.

export type Row = Record<string, unknown>;

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
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
