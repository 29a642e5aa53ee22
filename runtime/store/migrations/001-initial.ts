import type { Migration } from "./index.js";

export const initial: Migration = {
  version: 1,
  name: "initial",
  sql: `
create table apps (
  id text primary key,
  settings jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

create table scripts (
  app_id text not null references apps(id) on delete cascade,
  name text not null,
  current_version integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (app_id, name)
);

create table script_versions (
  app_id text not null,
  script_name text not null,
  version integer not null,
  language text not null,
  source text not null,
  compiled text not null,
  restored_from integer,
  created_at timestamptz not null default now(),
  primary key (app_id, script_name, version),
  foreign key (app_id, script_name) references scripts(app_id, name) on delete cascade
);

create table kv (
  app_id text not null references apps(id) on delete cascade,
  collection text collate "C" not null,
  key text collate "C" not null,
  value jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (app_id, collection, key)
);

create table invocations (
  id text primary key,
  app_id text not null,
  script_name text not null,
  version integer,
  trigger text not null,
  status text not null,
  started_at timestamptz not null,
  duration_ms double precision not null,
  logs jsonb not null default '[]'::jsonb,
  error jsonb,
  event_id text
);
create index invocations_app_started on invocations (app_id, started_at desc);
create index invocations_started on invocations (started_at);

create table admin_tokens (
  id text primary key,
  name text not null,
  hash text not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);
`,
};
