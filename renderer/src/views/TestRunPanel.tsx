// Invoke the deployed version with a sample HTTP request or a sample event; see response, logs, duration and errors inline.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorNotice, LogLines, Pill } from "../components/ui";
import { useConnection } from "../connections/context";
import { formatDuration } from "../lib/format";
import { parseJsonInput, pretty } from "../lib/json";
import { SAMPLE_LABELS, type SampleKind, sampleEvent } from "../lib/samples";

export function TestRunPanel({ app, name, deployed }: { app: string; name: string; deployed: boolean }) {
  const { client } = useConnection();
  const [kind, setKind] = useState<SampleKind>("http");
  const [method, setMethod] = useState("GET");
  const [path, setPath] = useState("/");
  const [headers, setHeaders] = useState('{\n  "content-type": "application/json"\n}');
  const [body, setBody] = useState("");
  const [eventText, setEventText] = useState("");
  const [inputError, setInputError] = useState<string>();

  const run = useMutation({
    mutationFn: async () => {
      setInputError(undefined);
      if (kind !== "http") {
        const event = parseJsonInput(eventText);
        if (!event.ok) throw new Error(`ctx.event: ${event.error}`);
        return client.testRun(app, name, { event: event.value });
      }
      const parsedHeaders = parseJsonInput(headers, { emptyAs: {} });
      if (!parsedHeaders.ok) throw new Error(`Headers: ${parsedHeaders.error}`);
      const parsedBody = body.trim() === "" ? { ok: true as const, value: undefined } : parseJsonInput(body);
      const request = {
        method,
        path,
        headers: parsedHeaders.value,
        ...(parsedBody.ok ? parsedBody.value !== undefined && { body: parsedBody.value } : { body }),
      };
      return client.testRun(app, name, { request });
    },
    onError: (error) => setInputError(error instanceof Error ? error.message : String(error)),
  });
  const result = run.data;
  return (
    <div className="card" data-testid="test-run">
      <div className="card-head">Test run</div>
      <div className="card-body stack">
        <label className="field">
          Input
          <select
            className="select"
            value={kind}
            onChange={(e) => {
              const next = e.target.value as SampleKind;
              setKind(next);
              if (next !== "http") setEventText(pretty(sampleEvent(next)));
            }}
            data-testid="test-kind"
          >
            {Object.entries(SAMPLE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {kind === "http" ? (
          <>
            <div className="row">
              <select
                className="select"
                value={method}
                onChange={(e) => setMethod(e.target.value)}
                aria-label="Method"
                data-testid="test-method"
              >
                {["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
              <input
                className="input mono"
                style={{ flex: 1 }}
                value={path}
                onChange={(e) => setPath(e.target.value)}
                aria-label="Sub-path"
              />
            </div>
            <label className="field">
              Headers (JSON)
              <textarea className="input mono" rows={3} value={headers} onChange={(e) => setHeaders(e.target.value)} />
            </label>
            <label className="field">
              Body (JSON, or text)
              <textarea
                className="input mono"
                rows={4}
                value={body}
                onChange={(e) => setBody(e.target.value)}
                placeholder='{"name": "Ada"}'
                data-testid="test-body"
              />
            </label>
          </>
        ) : (
          <label className="field">
            ctx.event (JSON)
            <textarea
              className="input mono"
              rows={9}
              value={eventText}
              onChange={(e) => setEventText(e.target.value)}
              data-testid="test-event"
            />
          </label>
        )}
        <div className="row">
          <button
            type="button"
            className="btn primary"
            onClick={() => run.mutate()}
            disabled={!deployed || run.isPending}
            data-testid="test-run-button"
          >
            {run.isPending ? "Running…" : "Run"}
          </button>
          {!deployed && <span className="muted small">Deploy first to run.</span>}
        </div>
        {inputError && <div className="notice error">{inputError}</div>}
        {run.isError && !inputError && <ErrorNotice error={run.error} />}
        {result && (
          <div className="stack" data-testid="test-result">
            <div className="row">
              <Pill value={`${result.ok ? result.status : "failed"}`} kind={result.ok ? "ok" : "error"} />
              <span className="muted small">
                {formatDuration(result.durationMs)} · v{result.version} · <span className="mono">{result.invocation.slice(-8)}</span>
              </span>
            </div>
            {result.error && (
              <div className="notice error" data-testid="test-error">
                <strong>{result.error.code}</strong>: {result.error.message}
                {result.error.line !== undefined &&
                  ` (line ${result.error.line}${result.error.column ? `, column ${result.error.column}` : ""})`}
              </div>
            )}
            {result.ok && (
              <pre className="json" data-testid="test-response">
                {result.body === null ? "(no body)" : result.body}
              </pre>
            )}
            <div>
              <div className="muted small" style={{ marginBottom: 4 }}>
                Logs
              </div>
              <LogLines logs={result.logs} testId="test-logs" />
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
