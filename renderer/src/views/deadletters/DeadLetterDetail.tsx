// One dead letter: what failed, the original event, every attempt (error, stack, invocation link).
import type { DeadLetter } from "../../api/types";
import { DetailTable, Json } from "../../components/ui";
import { formatDateTime } from "../../lib/format";
import { href } from "../../router";
import { AttemptList } from "../events/AttemptList";

export function DeadLetterDetail({ letter, onReplay, onDelete }: { letter: DeadLetter; onReplay: () => void; onDelete: () => void }) {
  return (
    <>
      <DetailTable
        rows={[
          {
            label: "Script",
            value: (
              <a className="mono" href={href({ page: "script", app: letter.app, script: letter.script })}>
                {`${letter.app}/${letter.script}`}
                {letter.version !== null && ` v${letter.version}`}
              </a>
            ),
          },
          { label: "Event", value: <span className="mono small break">{letter.eventId}</span> },
          { label: "Dead since", value: formatDateTime(letter.createdAt, { ms: true }) },
          { label: "Handler", value: letter.handlerStatus ?? "no dead-letter handler" },
        ]}
      />
      <div className="muted small">Original event</div>
      <Json value={letter.event} testId="dl-event" />
      <div className="muted small">Attempts</div>
      <AttemptList attempts={letter.attempts} />
      <div className="row">
        <button type="button" className="btn primary" onClick={onReplay} data-testid="dl-replay-one">
          Replay
        </button>
        <button type="button" className="btn danger" onClick={onDelete} data-testid="dl-delete-one">
          Delete
        </button>
      </div>
    </>
  );
}
