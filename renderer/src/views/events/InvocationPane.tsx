// The Events view's detail of one invocation: what the list row knows at once (outcome, logs,
// error), then what went in and out, read from the stored record (GET /invocations/{id}): an HTTP
// run's request and response status and headers, a triggered run's return value. A run seen only
// on the live stream (`stored: false`) has no record: nothing is read and nothing links to it.
import { useQuery } from "@tanstack/react-query";
import { invocationQuery } from "../../api/queries";
import type { InvocationRecord } from "../../api/types";
import { ErrorNotice } from "../../components/ui";
import { useApi } from "../../connections/context";
import { InvocationDetail } from "./InvocationDetail";
import { InvocationIO } from "./InvocationIO";

export function InvocationPane({ record, stored = true }: { record: InvocationRecord; stored?: boolean }) {
  // A stored record never changes: it is read once per selection and kept while it is cached.
  const detail = useQuery({ ...invocationQuery(useApi(), record.id), staleTime: Number.POSITIVE_INFINITY, enabled: stored });
  if (!stored)
    return (
      <div className="stack">
        <div className="notice info" data-testid="invocation-not-stored">
          Not stored: a successful run without console output that the app's record sample rate left out. It counts in the charts'
          per-minute aggregates; its id resolves to no record, and it is gone from this list after a reload.
        </div>
        <InvocationDetail record={record} permalink={false} />
      </div>
    );
  return (
    <div className="stack">
      <InvocationDetail record={record} stored={detail.data} />
      <ErrorNotice error={detail.error} />
      {detail.data && <InvocationIO record={detail.data} inline />}
      {detail.isLoading && <div className="muted small">Loading request and response…</div>}
    </div>
  );
}
