// The event inspector's list: virtualised, one tab stop, ↑/↓/Home/End move the selection.
import { useVirtualizer } from "@tanstack/react-virtual";
import { type KeyboardEvent, useEffect, useRef } from "react";
import { Empty, Pill, Spinner } from "../../components/ui";
import { type ActivityRow, eventSubject } from "../../lib/activity";
import { formatDuration, formatTime } from "../../lib/format";

const ROW_HEIGHT = 41;

export function ActivityList(props: {
  rows: readonly ActivityRow[];
  selected: string | undefined;
  onSelect: (id: string) => void;
  loading: boolean;
}) {
  const { rows, selected } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const index = rows.findIndex((r) => r.id === selected);
  useEffect(() => {
    if (index >= 0) virtual.scrollToIndex(index, { align: "auto" });
  }, [index, virtual]);
  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: rows.length - 1 };
    const next = moves[event.key];
    if (next === undefined || rows.length === 0) return;
    event.preventDefault();
    const row = rows[Math.max(0, Math.min(rows.length - 1, next))];
    if (row) props.onSelect(row.id);
  };
  return (
    <div
      ref={scrollRef}
      className="scroll grow-y activity-list"
      role="listbox"
      tabIndex={0}
      aria-label="Events and invocations"
      aria-activedescendant={selected ? `row-${selected}` : undefined}
      onKeyDown={onKeyDown}
      data-testid="event-list"
    >
      {props.loading && rows.length === 0 && (
        <div className="card-body">
          <Spinner />
        </div>
      )}
      {!props.loading && rows.length === 0 && <Empty>Nothing matches. Invocations and events appear here as they happen.</Empty>}
      <div className="virtual" style={{ height: virtual.getTotalSize() }}>
        {virtual.getVirtualItems().map((item) => {
          const row = rows[item.index];
          if (!row) return null;
          return (
            // biome-ignore lint/a11y/useKeyWithClickEvents: the listbox handles the keyboard for all rows
            <div
              key={row.id}
              id={`row-${row.id}`}
              role="option"
              tabIndex={-1}
              aria-selected={row.id === selected}
              className={`list-item virtual-row ${row.id === selected ? "active" : ""}`}
              style={{ transform: `translateY(${item.start}px)`, height: item.size }}
              onClick={() => props.onSelect(row.id)}
              data-testid="stream-item"
              data-kind={row.type}
              data-stored={row.type === "invocation" ? String(row.stored) : undefined}
            >
              <Row row={row} />
            </div>
          );
        })}
      </div>
    </div>
  );
}

function Row({ row }: { row: ActivityRow }) {
  if (row.type === "event") {
    const { event } = row;
    return (
      <>
        <span className="muted small mono time">{formatTime(row.at)}</span>
        <Pill value={event.kind} />
        <span className="grow">
          <span className="mono" title={`${event.app}/${event.script}`}>
            {event.script}
          </span>{" "}
          <span className="muted small" data-testid="event-subject">
            {eventSubject(event)} · attempt {event.attempts}/{event.maxAttempts}
          </span>
        </span>
        <Pill value={event.status} />
      </>
    );
  }
  const { record } = row;
  return (
    <>
      <span className="muted small mono time">{formatTime(row.at)}</span>
      <Pill value={record.trigger} kind={record.trigger === "http" ? "http" : undefined} />
      <span className="grow">
        <span className="mono" title={`${record.app}/${record.script}`}>
          {record.script}
        </span>{" "}
        <span className="muted small">
          {formatDuration(record.durationMs)}
          {record.error ? ` · ${record.error.code}` : ""}
        </span>
      </span>
      {!row.stored && (
        <span className="pill not-stored" title="Sampled out: counted in the aggregates, no record to open">
          not stored
        </span>
      )}
      <Pill value={record.status} />
    </>
  );
}
