import type { Migration } from "./index.js";

export const events: Migration = {
  version: 2,
  name: "events",
  sql: `
create table triggers (
  id text primary key,
  app_id text not null,
  script_name text not null,
  kind text not null check (kind in ('kv', 'schedule', 'dead_letter')),
  collection text collate "C",
  ops text[],
  key_prefix text collate "C",
  cron text,
  timezone text,
  for_script text,
  max_attempts integer not null,
  backoff_ms integer not null,
  backoff_max_ms integer not null,
  created_at timestamptz not null default now(),
  foreign key (app_id, script_name) references scripts(app_id, name) on delete cascade
);
create index triggers_app on triggers (app_id);
create unique index triggers_one_dead_letter_handler on triggers (app_id, coalesce(for_script, '')) where kind = 'dead_letter';

create table events (
  id text primary key,
  app_id text not null,
  trigger_id text,
  script_name text not null,
  kind text not null,
  payload jsonb not null,
  status text not null check (status in ('pending', 'running', 'done', 'dead', 'failed')),
  attempts integer not null default 0,
  max_attempts integer not null,
  backoff_ms integer not null,
  backoff_max_ms integer not null,
  chain_depth integer not null default 0,
  is_dead_letter_handler boolean not null default false,
  run_at timestamptz not null,
  lease_until timestamptz,
  lease_owner text,
  errors jsonb not null default '[]'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
create index events_due on events (run_at) where status = 'pending';
create index events_leased on events (lease_until) where status = 'running';
create index events_app on events (app_id, id desc);

create table dead_letters (
  id text primary key,
  app_id text not null,
  event_id text not null,
  trigger_id text,
  script_name text not null,
  version integer,
  kind text not null,
  payload jsonb not null,
  attempts jsonb not null,
  chain_depth integer not null default 0,
  first_attempt_at timestamptz,
  created_at timestamptz not null default now(),
  handler_status text
);
create index dead_letters_app on dead_letters (app_id, id desc);

create table schedule_runs (
  trigger_id text not null references triggers(id) on delete cascade,
  scheduled_at timestamptz not null,
  event_id text not null,
  primary key (trigger_id, scheduled_at)
);
`,
};
