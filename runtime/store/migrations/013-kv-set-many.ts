import type { Migration } from "./index.js";

/**
 * Group commit for KV writes (store/kv-batch.ts): one call applies a batch of upserts in order, each
 * as the single-write statement would (its own `version`, drawn again on update), in one statement
 * and one commit. Row i of the result belongs to member i. `lock_key`: the advisory key the batch
 * must take shared for its transaction (the guarded or owner forms in store/kv.ts), or null; refused,
 * the function writes nothing and returns no rows. A member with a channel sends its NOTIFY, which
 * Postgres delivers at the commit, as the single write's does.
 */
export const kvSetMany: Migration = {
  version: 13,
  name: "kv-set-many",
  sql: `
create function picloud_kv_set_many(
  apps text[], collections text[], keys text[], vals text[], want_stored boolean[], lock_key bigint, channels text[], payloads text[]
) returns table (r_inserted boolean, r_version bigint, r_stored text)
language plpgsql as $$
declare
  i integer;
begin
  if lock_key is not null and not pg_try_advisory_xact_lock_shared(lock_key) then
    return;
  end if;
  for i in 1 .. coalesce(array_length(keys, 1), 0) loop
    return query insert into kv as t (app_id, collection, key, value) values (apps[i], collections[i], keys[i], vals[i]::jsonb)
      on conflict (app_id, collection, key) do update set value = excluded.value, updated_at = now(), version = nextval('kv_version')
      returning (t.xmax = 0), t.version, case when want_stored[i] then t.value::text end;
    if channels[i] is not null then
      perform pg_notify(channels[i], payloads[i]);
    end if;
  end loop;
end
$$`,
};
