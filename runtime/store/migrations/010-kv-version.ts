import type { Migration } from "./index.js";

/**
 * A version on every KV row, for the node-local read cache (store/kv-cache.ts): drawn from one
 * sequence on insert and again by every update under the row lock. Rows written before this
 * migration keep version 0 (adding a constant default rewrites nothing).
 */
export const kvVersion: Migration = {
  version: 10,
  name: "kv-version",
  sql: `
create sequence kv_version;
alter table kv add column version bigint not null default 0;
alter table kv alter column version set default nextval('kv_version')`,
};
