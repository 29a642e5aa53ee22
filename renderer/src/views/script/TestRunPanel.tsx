// Invoke the deployed version with a sample HTTP request (method, path, query parameters, headers,
// body) or a sample event; the result shows status, headers, body, logs, duration and errors.
import { useState } from "react";
import { useTestRun } from "../../api/mutations";
import type { TestRunInput } from "../../api/types";
import { isJsonObject, isStringRecord, parseJsonInput, pretty } from "../../lib/json";
import { type QueryParam, splitPath, toQueryObject } from "../../lib/query-string";
import { SAMPLE_LABELS, type SampleKind, sampleEvent } from "../../lib/samples";
import { QueryParamsEditor } from "./QueryParamsEditor";
import { type RunError, TestRunResult } from "./TestRunResult";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const SAMPLE_BODY = '{\n  "name": "Ada"\n}';

export function TestRunPanel(props: { app: string; name: string; deployed: boolean; onRunError: (error: RunError | undefined) => void }) {
  const [kind, setKind] = useState<SampleKind>("http");
  const [method, setMethod] = useState("GET");
  const [path, setPath] = useState("/");
  const [params, setParams] = useState<QueryParam[]>([]);
  const [headers, setHeaders] = useState('{\n  "content-type": "application/json"\n}');
  const [body, setBody] = useState("");
  const [eventText, setEventText] = useState("");
  const [inputError, setInputError] = useState<string>();
  const run = useTestRun(props.app, props.name);

  const start = () => {
    setInputError(undefined);
    let input: TestRunInput;
    if (kind !== "http") {
      const event = parseJsonInput(eventText);
      if (!event.ok) return setInputError(`ctx.event: ${event.error}`);
      if (!isJsonObject(event.value)) return setInputError('ctx.event: must be a JSON object, e.g. {"type": "kv"}');
      input = { event: event.value };
    } else {
      const parsedHeaders = parseJsonInput(headers, { emptyAs: {} });
      if (!parsedHeaders.ok) return setInputError(`Headers: ${parsedHeaders.error}`);
      if (!isStringRecord(parsedHeaders.value))
        return setInputError('Headers: must be an object of strings, e.g. {"accept": "text/plain"}');
      const parsedBody = body.trim() === "" ? { ok: true as const, value: undefined } : parseJsonInput(body);
      const bodyValue = parsedBody.ok ? parsedBody.value : body;
      input = {
        request: {
          method,
          path,
          query: toQueryObject(params),
          headers: parsedHeaders.value,
          ...(bodyValue !== undefined && { body: bodyValue }),
        },
      };
    }
    run.mutate(input, {
      onSuccess: (result) => props.onRunError(result.error ? { message: result.error.message, details: { ...result.error } } : undefined),
    });
  };

  return (
    <div className="card" data-testid="test-run">
      <div className="card-head">Test run</div>
      <div className="card-body stack">
        <p className="muted small note">Runs the deployed version for real: KV writes and triggers happen as for any request.</p>
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
            <div className="row nowrap">
              <select
                className="select"
                value={method}
                onChange={(e) => {
                  setMethod(e.target.value);
                  if (e.target.value !== "GET" && e.target.value !== "DELETE" && body.trim() === "") setBody(SAMPLE_BODY);
                }}
                aria-label="Method"
                data-testid="test-method"
              >
                {METHODS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
              <input
                className="input mono grow"
                value={path}
                onChange={(e) => {
                  const split = splitPath(e.target.value);
                  setPath(split.params.length > 0 || e.target.value.includes("?") ? split.path : e.target.value);
                  if (split.params.length > 0) setParams([...params.filter((p) => p.key.trim()), ...split.params]);
                }}
                aria-label="Sub-path (a ?query is moved to the parameters)"
                placeholder="/"
                data-testid="test-path"
              />
            </div>
            <QueryParamsEditor params={params} onChange={setParams} />
            <label className="field">
              Headers (JSON)
              <textarea className="input mono" rows={3} value={headers} onChange={(e) => setHeaders(e.target.value)} />
            </label>
            <label className="field">
              Body (JSON, or text; leave empty for none)
              <textarea
                className="input mono"
                rows={4}
                value={body}
                onChange={(e) => setBody(e.target.value)}
                placeholder="(no body)"
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
            onClick={start}
            disabled={!props.deployed || run.isPending}
            data-testid="test-run-button"
          >
            {run.isPending ? "Running…" : "Run"}
          </button>
          {!props.deployed && <span className="muted small">Deploy first to run.</span>}
        </div>
        {inputError && <div className="notice error">{inputError}</div>}
        <TestRunResult result={run.data} error={run.error} />
      </div>
    </div>
  );
}
