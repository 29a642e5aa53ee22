import type { Migration } from "./index.js";

/**
 * The KV writers' lock protocol, version 3: an owner's write commits only while kv_owner_lease names
 * it (store/kv-ownership.ts, store/kv.ts). `picloud_kv_owner_may_write` is the guard of an owner's
 * single writes: the owner-writes key shared for the transaction, then the row, looked up in a
 * snapshot taken after the key was granted (a volatile PL/pgSQL function takes a fresh one per
 * statement, where a plain statement would look with the snapshot it began with). So a write whose
 * key came after a next owner's fence sees that owner's change of the row, which comes before its
 * fence. `picloud_kv_set_many` gains the same check for the owner's batches (`owner`: the holder;
 * null: 013's form as it is), then applies the batch through 013's form (the key already taken). A
 * release before it writes as the owner unchecked; this migration moves the schema past it
 * (SCHEMA_TOO_NEW).
 */
export const kvOwnerWrites: Migration = {
  version: 16,
  name: "kv-owner-writes",
  sql: `
create function picloud_kv_owner_may_write(lock_key bigint, owner text) returns boolean
language plpgsql volatile as $$
begin
  if not pg_try_advisory_xact_lock_shared(lock_key) then
    return false;
  end if;
  return exists (select 1 from kv_owner_lease where id = 1 and holder = owner);
end
$$;
create function picloud_kv_set_many(
  apps text[], collections text[], keys text[], vals text[], want_stored boolean[], lock_key bigint, channels text[], payloads text[],
  owner text
) returns table (r_inserted boolean, r_version bigint, r_stored text)
language plpgsql as $$
begin
  if owner is null then
    return query select * from picloud_kv_set_many(apps, collections, keys, vals, want_stored, lock_key, channels, payloads);
  elsif picloud_kv_owner_may_write(lock_key, owner) then
    return query select * from picloud_kv_set_many(apps, collections, keys, vals, want_stored, null, channels, payloads);
  end if;
end
$$;
comment on table kv is 'picloud kv writers lock protocol 3: every KV writer holds advisory lock 7340813 (shared, or exclusive by an owning serve that caches reads under a lease recorded in kv_owner_lease, and whose writes commit only while that row names it), see runtime/store/kv-ownership.ts'
`,
};
