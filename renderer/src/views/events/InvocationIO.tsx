// What went into and came out of one stored invocation: the HTTP request and the response's status
// and headers, or a triggered run's return value. The runtime has already redacted credentials
// and secrets and cut bodies to 4 KiB; this only lays them out (JSON pretty-printed when whole).
import type { InvocationDetail, RecordedRequest, RecordedResponse, RecordedText } from "../../api/types";
import { Fragment, type ReactNode } from "react";
import { Pill } from "../../components/ui";

/** `?a=1&b=2` from the recorded query, shown decoded (values already redacted). */
function queryString(query: RecordedRequest["query"]): string {
  const pairs = Object.entries(query).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((one) => `${name}=${one}`));
  return pairs.length > 0 ? `?${pairs.join("&")}` : "";
}

/** JSON is shown indented when the whole text was kept and parses; anything else as it came. */
function readable(text: string, truncated: boolean): string {
  if (truncated) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

const bytes = (n: number) => (n < 1024 ? `${n} bytes` : `${(n / 1024).toFixed(1)} KiB`);

function Headers({ headers, testId }: { headers: Record<string, string>; testId: string }) {
  const entries = Object.entries(headers);
  if (entries.length === 0) return <div className="muted small">no headers</div>;
  return (
    <table className="header-table mono small" data-testid={testId}>
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name}>
            <td>{name}</td>
            <td className={value === "[redacted]" ? "muted" : undefined}>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Body({ body, testId, empty }: { body: RecordedText | null; testId: string; empty: string }) {
  if (!body) return <div className="muted small">{empty}</div>;
  return (
    <div className="stack tight">
      <pre className="json" data-testid={testId}>
        {readable(body.text, body.truncated)}
      </pre>
      <div className="muted small" data-testid={`${testId}-size`}>
        {body.truncated ? `First ${bytes(utf8Bytes(body.text))} of ${bytes(body.bytes)} (truncated)` : bytes(body.bytes)}
      </div>
    </div>
  );
}

/** UTF-8 size of a string in the browser (no Buffer there). */
function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

function RequestSection({ request }: { request: RecordedRequest }) {
  return (
    <div className="stack" data-testid="invocation-request">
      <div className="mono break request-line">
        <strong>{request.method}</strong> {request.path}
        {queryString(request.query)}
      </div>
      <div>
        <div className="muted small label">Headers</div>
        <Headers headers={request.headers} testId="request-headers" />
      </div>
      <div>
        <div className="muted small label">Body</div>
        <Body body={request.body} testId="request-body" empty="no body" />
      </div>
    </div>
  );
}

function ResponseSection({ response }: { response: RecordedResponse }) {
  const kind = response.status < 400 ? "ok" : "error";
  return (
    <div className="stack" data-testid="invocation-response">
      <div className="row">
        <Pill value={String(response.status)} kind={kind} />
      </div>
      <Headers headers={response.headers} testId="response-headers" />
      <div className="muted small">The response body is not recorded.</div>
    </div>
  );
}

/**
 * The request/response card (HTTP runs) or the return-value card (triggered runs); nothing for older
 * records. `inline` lays the same sections out without cards, inside another card (the Events view's
 * detail pane).
 */
export function InvocationIO({ record, inline = false }: { record: InvocationDetail; inline?: boolean }) {
  const Section = inline ? InlineSection : CardSection;
  if (record.request || record.response) {
    return (
      <Section
        testId="invocation-http"
        parts={[
          {
            title: "Request",
            body: record.request ? <RequestSection request={record.request} /> : <div className="muted small">not recorded</div>,
          },
          {
            title: "Response",
            body: record.response ? <ResponseSection response={record.response} /> : <div className="muted small">not recorded</div>,
          },
        ]}
      />
    );
  }
  if (record.result) {
    return (
      <Section
        testId="invocation-result"
        parts={[
          {
            title: "Return value",
            body: (
              <Body
                body={record.result.returned ? record.result : null}
                testId="result-value"
                empty="The handler returned nothing (undefined)."
              />
            ),
          },
        ]}
      />
    );
  }
  return null;
}

interface SectionProps {
  readonly testId: string;
  readonly parts: readonly { readonly title: string; readonly body: ReactNode }[];
}

function CardSection({ testId, parts }: SectionProps) {
  return (
    <section className="card" data-testid={testId}>
      {parts.map((part, i) => (
        <Fragment key={part.title}>
          <div className={i === 0 ? "card-head" : "card-head divided"}>{part.title}</div>
          <div className="card-body">{part.body}</div>
        </Fragment>
      ))}
    </section>
  );
}

function InlineSection({ testId, parts }: SectionProps) {
  return (
    <div className="stack" data-testid={testId}>
      {parts.map((part) => (
        <div key={part.title}>
          <div className="io-title">{part.title}</div>
          {part.body}
        </div>
      ))}
    </div>
  );
}
