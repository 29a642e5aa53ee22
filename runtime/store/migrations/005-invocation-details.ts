import type { Migration } from "./index.js";

/**
 * What a stored invocation record adds to the run's outcome: the time it waited in the admission
 * queue, the HTTP request and response (trimmed and redacted before they get here) and a triggered
 * run's return value. Nullable columns without defaults: adding them is a catalogue change only, so
 * it is instant on a table of millions of rows, and older rows simply have none.
 */
export const invocationDetails: Migration = {
  version: 5,
  name: "invocation-details",
  sql: `
alter table invocations add column if not exists queued_ms double precision;
alter table invocations add column if not exists request jsonb;
alter table invocations add column if not exists response jsonb;
alter table invocations add column if not exists result jsonb
`,
};
