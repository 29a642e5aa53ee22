import type { Migration } from "./index.js";

/** Per-app secrets (sealed with AES-256-GCM by a key kept outside the database) and egress patterns. */
export const secretsEgress: Migration = {
  version: 4,
  name: "secrets-egress",
  sql: `
create table app_secrets (
  app_id text not null references apps(id) on delete cascade,
  name text not null,
  sealed text not null,
  updated_at timestamptz not null default now(),
  primary key (app_id, name)
);

create table app_egress (
  app_id text not null references apps(id) on delete cascade,
  pattern text not null,
  created_at timestamptz not null default now(),
  primary key (app_id, pattern)
);
`,
};
