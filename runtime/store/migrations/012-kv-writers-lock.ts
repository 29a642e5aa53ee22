import type { Migration } from "./index.js";

/**
 * The KV writers' lock protocol (store/kv-ownership.ts), version 1: a `serve` may own the database's
 * KV and cache it, so every other writer must take the lock. A release before it takes no lock and
 * would write beside an owner unseen; this migration moves the schema past what such a release knows,
 * so it refuses to start on the database (SCHEMA_TOO_NEW). The comment records the protocol.
 */
export const kvWritersLock: Migration = {
  version: 12,
  name: "kv-writers-lock",
  sql: `
comment on table kv is 'picloud kv writers lock protocol 1: every KV writer holds advisory lock 7340813 (shared, or exclusive by an owning serve that caches reads), see runtime/store/kv-ownership.ts'
`,
};
