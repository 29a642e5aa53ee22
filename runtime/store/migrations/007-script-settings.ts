import type { Migration } from "./index.js";

/** Per-script overrides of limits and strict mode (resolved as server defaults < app < script). */
export const scriptSettings: Migration = {
  version: 7,
  name: "script-settings",
  sql: `alter table scripts add column settings jsonb not null default '{}'::jsonb`,
};
