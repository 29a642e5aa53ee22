import type { Migration } from "./index.js";

/**
 * An app's egress mode: `public` (the default, and what an app without a row has: the public internet
 * plus its patterns) or `allowlist` (only its patterns, the public internet included).
 */
export const egressMode: Migration = {
  version: 11,
  name: "egress-mode",
  sql: `
create table app_egress_mode (
  app_id text primary key references apps(id) on delete cascade,
  mode text not null check (mode in ('public', 'allowlist')),
  updated_at timestamptz not null default now()
);
`,
};
