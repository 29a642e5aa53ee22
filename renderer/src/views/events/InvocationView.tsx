// The invocation page (permalink #/invocations/ID): outcome, queue time, logs, error; the HTTP
// request and response or the return value; the event that caused it and that event's retries.
import { useQuery } from "@tanstack/react-query";
import { invocationQuery } from "../../api/queries";
import { ErrorNotice, NotFound, Spinner, isNotFound } from "../../components/ui";
import { useApi } from "../../connections/context";
import { isRecordId } from "../../lib/ids";
import { href } from "../../router";
import { EventDetail } from "./EventDetail";
import { InvocationDetail } from "./InvocationDetail";
import { InvocationIO } from "./InvocationIO";

export function InvocationView({ id }: { id: string }) {
  const wellFormed = isRecordId(id);
  const invocation = useQuery({ ...invocationQuery(useApi(), id), enabled: wellFormed });
  if (!wellFormed || isNotFound(invocation.error))
    return (
      <NotFound back={href({ page: "events" })} backLabel="All events">
        No invocation with id '<span className="mono break">{id}</span>'.
      </NotFound>
    );
  return (
    <div className="page" data-testid="invocation-page">
      <div className="page-head">
        <h1>
          <a className="crumb" href={href({ page: "events" })}>
            Events /
          </a>{" "}
          Invocation
        </h1>
        <span className="mono small muted break">{id}</span>
      </div>
      {invocation.isLoading && <Spinner />}
      <ErrorNotice error={invocation.error} />
      {invocation.data && (
        <div className="detail-columns">
          <section className="card">
            <div className="card-head">Invocation</div>
            <div className="card-body">
              <InvocationDetail record={invocation.data} permalink={false} />
            </div>
          </section>
          <InvocationIO record={invocation.data} />
          {invocation.data.eventId && (
            <section className="card">
              <div className="card-head">Event that caused it, with its retries</div>
              <div className="card-body">
                <EventDetail id={invocation.data.eventId} />
              </div>
            </section>
          )}
        </div>
      )}
    </div>
  );
}
