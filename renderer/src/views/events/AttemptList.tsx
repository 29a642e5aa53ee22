// Failed attempts of an event or dead letter: when, how long, the error, and the invocation (its
// stack and logs) behind each.
import type { AttemptRecord } from "../../api/types";
import { formatDateTime, formatDuration } from "../../lib/format";
import { href } from "../../router";

export function AttemptList({ attempts }: { attempts: readonly AttemptRecord[] }) {
  return (
    <div className="stack tight">
      {attempts.map((attempt) => (
        <div key={attempt.attempt} className="notice error small" data-testid="attempt">
          <div>
            #{attempt.attempt} at {formatDateTime(attempt.at, { ms: true })} · {formatDuration(attempt.durationMs)}
            {attempt.version !== null && ` · v${attempt.version}`}
          </div>
          <div>
            <strong>{attempt.error.code}</strong> {attempt.error.message}
          </div>
          {typeof attempt.error.stack === "string" && <pre className="stack-trace">{attempt.error.stack}</pre>}
          {attempt.invocation && (
            <a href={href({ page: "invocation", id: attempt.invocation })} className="small" data-testid="attempt-invocation">
              Invocation {attempt.invocation} (logs, stack) →
            </a>
          )}
        </div>
      ))}
    </div>
  );
}
