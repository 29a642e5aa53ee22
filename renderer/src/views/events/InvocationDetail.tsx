// One invocation: what ran, how it ended, its logs and error (with stack), and a permalink.
import type { InvocationRecord, InvocationDetail as StoredInvocation } from "../../api/types";
import { DetailTable, LogLines, Pill } from "../../components/ui";
import { formatDateTime, formatDuration } from "../../lib/format";
import { href } from "../../router";

/** `stored`: the full record, when read, adds a one-line summary of an HTTP run (method, path, status). */
export function InvocationDetail({
  record,
  permalink = true,
  stored,
}: {
  record: InvocationRecord;
  permalink?: boolean;
  stored?: StoredInvocation | undefined;
}) {
  return (
    <div className="stack" data-testid="invocation-detail">
      <DetailTable
        rows={[
          {
            label: "Script",
            value: (
              <a className="mono" href={href({ page: "script", app: record.app, script: record.script })}>
                {`${record.app}/${record.script}`}
              </a>
            ),
          },
          { label: "Version", value: record.version === null ? "—" : `v${record.version}` },
          { label: "Trigger", value: record.trigger },
          stored?.request
            ? {
                label: "Request",
                value: (
                  <span className="mono break" data-testid="invocation-http-summary">
                    {stored.request.method} {stored.request.path}
                    {stored.response ? ` → ${stored.response.status}` : ""}
                  </span>
                ),
              }
            : null,
          { label: "Status", value: <Pill value={record.status} /> },
          { label: "Started", value: formatDateTime(record.startedAt, { ms: true }) },
          { label: "Duration", value: formatDuration(record.durationMs) },
          // Time waiting for a free executor before the run started (not part of the duration).
          record.queuedMs === undefined || record.queuedMs === null
            ? null
            : { label: "Queue time", value: <span data-testid="invocation-queued">{formatDuration(record.queuedMs)}</span> },
          {
            label: "Invocation",
            value: permalink ? (
              <a className="mono small break" href={href({ page: "invocation", id: record.id })} data-testid="invocation-link">
                {record.id}
              </a>
            ) : (
              <span className="mono small break">{record.id}</span>
            ),
          },
          record.eventId ? { label: "Event", value: <span className="mono small break">{record.eventId}</span> } : null,
        ]}
      />
      {record.error && (
        <div className="notice error" data-testid="invocation-error">
          <strong>{record.error.code}</strong>: {record.error.message}
          {record.error.line !== undefined && ` (line ${record.error.line}${record.error.column ? `, column ${record.error.column}` : ""})`}
          {record.error.stack && <pre className="stack-trace">{record.error.stack}</pre>}
        </div>
      )}
      <div>
        <div className="muted small label">Logs</div>
        <LogLines logs={record.logs} testId="invocation-logs" />
      </div>
    </div>
  );
}
