// A cron expression and time zone, with the next five runs (or what is wrong) as you type.
import { formatDateTime } from "../../lib/format";
import { previewCron } from "../../lib/cron";

export function CronField(props: { cron: string; timezone: string; onCron: (v: string) => void; onTimezone: (v: string) => void }) {
  const preview = previewCron(props.cron, props.timezone);
  return (
    <div className="stack">
      <div className="row nowrap">
        <input
          className="input mono grow"
          value={props.cron}
          onChange={(e) => props.onCron(e.target.value)}
          aria-label="Cron expression"
          aria-invalid={!preview.ok}
          data-testid="trigger-cron"
        />
        <input className="input w-130" value={props.timezone} onChange={(e) => props.onTimezone(e.target.value)} aria-label="Time zone" />
      </div>
      {preview.ok ? (
        <div className="small muted" data-testid="cron-preview">
          Next runs (local time):
          <ol className="cron-runs">
            {preview.runs.map((run) => (
              <li key={run.getTime()}>{formatDateTime(run)}</li>
            ))}
          </ol>
        </div>
      ) : (
        <div className="notice warn small" data-testid="cron-error">
          {preview.error}
        </div>
      )}
    </div>
  );
}
