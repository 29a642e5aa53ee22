import type { Migration } from "./index.js";

export const invocationStats: Migration = {
  version: 3,
  name: "invocation-stats",
  sql: `
create table invocation_stats (
  app_id text not null,
  script_name text not null,
  minute timestamptz not null,
  count integer not null,
  error_count integer not null,
  errors jsonb not null default '{}'::jsonb,
  duration_hist integer[] not null,
  duration_sum_ms double precision not null,
  cpu_ms double precision not null default 0,
  primary key (app_id, minute, script_name)
);
create index invocation_stats_minute on invocation_stats (minute);
`,
};
