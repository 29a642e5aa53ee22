// Event inspector: a live stream (SSE) of events and invocations with filters and a detail view.
import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState } from "react";
import type { InvocationRecord, StreamEvent } from "../api/types";
import { DetailTable, Empty, ErrorNotice, Json, LogLines, Pill, Spinner } from "../components/ui";
import { useConnection } from "../connections/context";
import { formatDuration, formatTime } from "../lib/format";
import { itemScript, itemStatus, itemTrigger, matchesFilter, pushBounded, type StreamItem } from "../lib/stream-filter";

const MAX_ITEMS = 2_000;

export function EventsView() {
  const { client, info } = useConnection();
  const apps = useQuery({ queryKey: ["apps", info.id], queryFn: () => client.listApps() });
  const [app, setApp] = useState("");
  const [script, setScript] = useState("");
  const [status, setStatus] = useState("");
  const [trigger, setTrigger] = useState("");
  const [items, setItems] = useState<StreamItem[]>([]);
  const [live, setLive] = useState<"connecting" | "live" | "down">("connecting");
  const [selected, setSelected] = useState<StreamItem>();

  // Recent history first, then the live stream on top of it.
  useEffect(() => {
    let cancelled = false;
    setItems([]);
    void client.listInvocations({ app: app || undefined, limit: "100" }).then((records) => {
      if (cancelled) return;
      setItems((current) => [
        ...current,
        ...records.map((record): StreamItem => ({ type: "invocation", at: Date.parse(record.startedAt), record })),
      ]);
    });
    const source = new EventSource(client.streamUrl(app || undefined));
    source.onopen = () => setLive("live");
    source.onerror = () => setLive("down");
    source.addEventListener("invocation", (e) => {
      const record = JSON.parse((e as MessageEvent).data) as InvocationRecord;
      setItems((current) => pushBounded(current, { type: "invocation", at: Date.now(), record }, MAX_ITEMS));
    });
    source.addEventListener("event", (e) => {
      const event = JSON.parse((e as MessageEvent).data) as StreamEvent;
      setItems((current) => pushBounded(current, { type: "event", at: Date.now(), event }, MAX_ITEMS));
    });
    return () => {
      cancelled = true;
      source.close();
    };
  }, [client, app]);

  const filtered = useMemo(
    () => items.filter((item) => matchesFilter(item, { script, status, trigger })),
    [items, script, status, trigger],
  );
  const scripts = useMemo(() => [...new Set(items.map(itemScript))].sort(), [items]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: filtered.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 41,
    overscan: 10,
  });

  return (
    <div className="page">
      <div className="page-head">
        <h1>Events</h1>
        <span className={`pill ${live === "live" ? "ok" : live === "down" ? "error" : "pending"}`} data-testid="stream-status">
          {live === "live" ? "● live" : live === "down" ? "disconnected" : "connecting"}
        </span>
        <div className="spacer" />
        <select className="select" value={app} onChange={(e) => setApp(e.target.value)} aria-label="App">
          <option value="">All apps</option>
          {apps.data?.map((a) => (
            <option key={a.id}>{a.id}</option>
          ))}
        </select>
        <select className="select" value={script} onChange={(e) => setScript(e.target.value)} aria-label="Script">
          <option value="">All scripts</option>
          {scripts.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select className="select" value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Status">
          <option value="">Any status</option>
          {["ok", "error", "pending", "running", "done", "dead", "failed"].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select className="select" value={trigger} onChange={(e) => setTrigger(e.target.value)} aria-label="Trigger">
          <option value="">Any trigger</option>
          {["http", "kv", "schedule", "dead_letter", "test"].map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <button type="button" className="btn" onClick={() => setItems([])}>
          Clear
        </button>
      </div>
      <div className="events-layout">
        <div className="card fill">
          <div ref={scrollRef} className="scroll" style={{ flex: 1 }} data-testid="event-list">
            {filtered.length === 0 && <Empty>Nothing yet. Invocations and events appear here as they happen.</Empty>}
            <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
              {virtual.getVirtualItems().map((row) => {
                const item = filtered[row.index];
                if (!item) return null;
                return (
                  <button
                    key={row.key}
                    type="button"
                    className={`list-item ${item === selected ? "active" : ""}`}
                    style={{ position: "absolute", top: 0, transform: `translateY(${row.start}px)`, height: row.size }}
                    onClick={() => setSelected(item)}
                    data-testid="stream-item"
                  >
                    <span className="muted small mono" style={{ width: 92 }}>
                      {formatTime(item.type === "invocation" ? item.record.startedAt : new Date(item.at).toISOString())}
                    </span>
                    <Pill value={itemTrigger(item)} kind={itemTrigger(item) === "http" ? "http" : undefined} />
                    <span className="grow">
                      <span className="mono">{itemScript(item)}</span>{" "}
                      <span className="muted small">
                        {item.type === "invocation"
                          ? `invocation · ${formatDuration(item.record.durationMs)}${item.record.error ? ` · ${item.record.error.code}` : ""}`
                          : `event · attempt ${item.event.attempt}`}
                      </span>
                    </span>
                    <Pill value={itemStatus(item)} />
                  </button>
                );
              })}
            </div>
          </div>
        </div>
        <div className="card fill">
          <div className="card-head">Details</div>
          <div className="card-body scroll" style={{ flex: 1 }} data-testid="event-detail">
            {!selected && <Empty>Select an item.</Empty>}
            {selected?.type === "invocation" && <InvocationDetail record={selected.record} />}
            {selected?.type === "event" && <EventDetail id={selected.event.id} />}
          </div>
        </div>
      </div>
    </div>
  );
}

function InvocationDetail({ record }: { record: InvocationRecord }) {
  return (
    <div className="stack">
      <DetailTable
        rows={[
          { label: "Script", value: <span className="mono">{`${record.app}/${record.script} v${record.version}`}</span> },
          { label: "Trigger", value: record.trigger },
          { label: "Status", value: <Pill value={record.status} /> },
          { label: "Started", value: new Date(record.startedAt).toLocaleString() },
          { label: "Duration", value: formatDuration(record.durationMs) },
          { label: "Invocation", value: <span className="mono small">{record.id}</span> },
          record.eventId ? { label: "Event", value: <span className="mono small">{record.eventId}</span> } : null,
        ]}
      />
      {record.error && (
        <div className="notice error">
          <strong>{record.error.code}</strong>: {record.error.message}
          {record.error.line !== undefined && ` (line ${record.error.line})`}
          {record.error.stack && <pre style={{ marginTop: 6 }}>{record.error.stack}</pre>}
        </div>
      )}
      <div>
        <div className="muted small" style={{ marginBottom: 4 }}>
          Logs
        </div>
        <LogLines logs={record.logs} />
      </div>
      {record.eventId && <EventDetail id={record.eventId} />}
    </div>
  );
}

function EventDetail({ id }: { id: string }) {
  const { client, info } = useConnection();
  const event = useQuery({ queryKey: ["event", info.id, id], queryFn: () => client.getEvent(id) });
  if (event.isLoading) return <Spinner />;
  if (event.error) return <ErrorNotice error={event.error} />;
  const data = event.data;
  if (!data) return null;
  return (
    <div className="stack">
      <div className="row">
        <strong>Event</strong> <Pill value={data.status} />
        <span className="muted small">
          attempt {data.attempts}/{data.maxAttempts}
        </span>
      </div>
      <div className="muted small">ctx.event</div>
      <Json value={data.payload} testId="event-payload" />
      {data.errors.map((attempt) => (
        <div key={attempt.attempt} className="notice error small">
          Attempt {attempt.attempt} at {formatTime(attempt.at)}: <strong>{attempt.error.code}</strong> {attempt.error.message}
        </div>
      ))}
    </div>
  );
}
