import type { Migration } from "./index.js";

/**
 * The KV writers' lock protocol, version 2: an owning `serve` serves cached reads only under a lease
 * (store/kv-ownership.ts). Its one row says that an owner may hold a lease: written by an owner before
 * its first lease, deleted when it stops cleanly; a process that takes the lock and finds another
 * holder's row waits out `lease_ms` (plus a margin) before it writes. A release before it knows no
 * lease and would not wait; this migration moves the schema past it (SCHEMA_TOO_NEW).
 */
export const kvOwnerLease: Migration = {
  version: 15,
  name: "kv-owner-lease",
  sql: `
create table kv_owner_lease (
  id smallint primary key default 1 check (id = 1),
  holder text not null,
  lease_ms integer not null check (lease_ms > 0),
  taken_at timestamptz not null default now()
);
comment on table kv is 'picloud kv writers lock protocol 2: every KV writer holds advisory lock 7340813 (shared, or exclusive by an owning serve that caches reads under a lease recorded in kv_owner_lease), see runtime/store/kv-ownership.ts'
`,
};
