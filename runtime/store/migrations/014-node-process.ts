import type { Migration } from "./index.js";

/**
 * Which process a node row belongs to: where it runs (the host name, and on Linux the kernel's
 * boot id and pid namespace: core/process-identity.ts; early releases wrote the host name alone)
 * and the process id. A process restarted after a crash recognises its dead predecessor's row by
 * them (core/membership.ts).
 * Rows written before this migration have neither ('' and 0): they are waited out, never taken over.
 */
export const nodeProcess: Migration = {
  version: 14,
  name: "node-process",
  sql: `
alter table nodes add column host text not null default '';
alter table nodes add column pid integer not null default 0`,
};
