import type { Migration } from "./index.js";

/** Cluster membership: one row per running process, refreshed by its heartbeat (on the database's clock). */
export const nodes: Migration = {
  version: 9,
  name: "nodes",
  sql: `
create table nodes (
  id text primary key,
  name text not null unique,
  url text not null,
  role text not null,
  version text not null,
  status text not null,
  heartbeat_ms integer not null,
  started_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  load jsonb not null default '{}'::jsonb
)`,
};
