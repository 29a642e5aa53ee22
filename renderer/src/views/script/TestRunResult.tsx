// What a test run returned: status, duration, the invocation (linked), error, headers, body, logs.
import type { TestRunResult as Result } from "../../api/types";
import { ErrorNotice, LogLines, Pill } from "../../components/ui";
import { formatDuration } from "../../lib/format";
import { href } from "../../router";

/** A run-time error as the editor's markers take it. */
export interface RunError {
  readonly message: string;
  readonly details: Record<string, unknown>;
}

export function TestRunResult({ result, error }: { result: Result | undefined; error: unknown }) {
  if (error) return <ErrorNotice error={error} />;
  if (!result) return null;
  const headers = Object.entries(result.headers);
  return (
    <div className="stack" data-testid="test-result">
      <div className="row">
        <Pill value={`${result.ok ? result.status : "failed"}`} kind={result.ok ? "ok" : "error"} />
        <span className="muted small">
          {formatDuration(result.durationMs)} · v{result.version}
        </span>
      </div>
      <div className="small">
        Invocation{" "}
        <a className="mono" href={href({ page: "invocation", id: result.invocation })} data-testid="test-invocation">
          {result.invocation}
        </a>
      </div>
      {result.error && (
        <div className="notice error" data-testid="test-error">
          <strong>{result.error.code}</strong>: {result.error.message}
          {result.error.line !== undefined && ` (line ${result.error.line}${result.error.column ? `, column ${result.error.column}` : ""})`}
        </div>
      )}
      {result.ok && (
        <>
          <details className="headers" open={headers.length > 0 && headers.length <= 4}>
            <summary className="small muted">Response headers ({headers.length})</summary>
            <table className="kv-table small mono" data-testid="test-headers">
              <tbody>
                {headers.map(([name, value]) => (
                  <tr key={name}>
                    <td>{name}</td>
                    <td>{value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
          <pre className="json" data-testid="test-response">
            {result.body === null ? "(no body)" : result.body}
          </pre>
        </>
      )}
      <div>
        <div className="muted small label">Logs</div>
        <LogLines logs={result.logs} testId="test-logs" />
      </div>
    </div>
  );
}
