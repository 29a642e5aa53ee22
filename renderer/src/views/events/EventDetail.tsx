// One event: its ctx.event payload, delivery state, and every attempt with a link to its invocation.
import { useQuery } from "@tanstack/react-query";
import { eventQuery } from "../../api/queries";
import { ErrorNotice, Json, Pill, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { formatDateTime, formatDuration } from "../../lib/format";
import { AttemptList } from "./AttemptList";

export function EventDetail({ id }: { id: string }) {
  const event = useQuery(eventQuery(useApi(), id));
  if (event.isLoading) return <Spinner />;
  if (event.error) return <ErrorNotice error={event.error} />;
  const data = event.data;
  if (!data) return null;
  return (
    <div className="stack" data-testid="event-detail-body">
      <div className="row">
        <strong>Event</strong> <Pill value={data.status} />
        <span className="muted small">
          attempt {data.attempts}/{data.maxAttempts} · created {formatDateTime(data.createdAt, { ms: true })}
          {data.finishedAt && ` · finished ${formatDateTime(data.finishedAt, { ms: true })}`}
        </span>
      </div>
      <div className="mono small break muted">{data.id}</div>
      <div className="muted small">ctx.event</div>
      <Json value={data.payload} testId="event-payload" />
      {data.errors.length > 0 && (
        <div className="muted small">Failed attempts (retries back off from {formatDuration(data.backoffMs)})</div>
      )}
      <AttemptList attempts={data.errors} />
    </div>
  );
}
