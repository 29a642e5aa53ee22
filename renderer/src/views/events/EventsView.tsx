// Event inspector: events (one row each, updated in place as attempts happen) and direct
// invocations, from the API with the same filters for history and live updates, plus a text
// search over invocation logs and errors. Runs the stream reports without a stored record (sampled-
// out silent successes) are rows too while the window is open, marked "not stored".
import { useQuery } from "@tanstack/react-query";
import { useDeferredValue, useMemo, useState } from "react";
import { useLiveStatus } from "../../api/live";
import { useUnstoredRuns } from "../../api/live-runs";
import { appsQuery, eventsQuery, invocationsQuery } from "../../api/queries";
import { ErrorNotice } from "../../components/ui";
import { useApi } from "../../connections/context";
import {
  type ActivityFilter,
  type ActivityRow,
  activityRows,
  EVENT_STATUSES,
  INVOCATION_STATUSES,
  sources,
  TRIGGERS,
} from "../../lib/activity";
import { href } from "../../router";
import { ActivityList } from "./ActivityList";
import { EventDetail } from "./EventDetail";
import { InvocationPane } from "./InvocationPane";

const LIMIT = "200";

export function EventsView() {
  const api = useApi();
  const live = useLiveStatus();
  const apps = useQuery(appsQuery(api));
  const [filter, setFilter] = useState<ActivityFilter>({});
  const [textInput, setTextInput] = useState("");
  const text = useDeferredValue(textInput.trim());
  const [selected, setSelected] = useState<string>();
  const active = useMemo(() => ({ ...filter, text }), [filter, text]);
  const from = sources(active);
  const base = { app: filter.app || undefined, script: filter.script || undefined, limit: LIMIT };
  const events = useQuery({ ...eventsQuery(api, { ...base, status: filter.status || undefined }), enabled: from.events });
  const invocations = useQuery({
    ...invocationsQuery(api, { ...base, status: filter.status || undefined, trigger: filter.trigger || undefined, q: text || undefined }),
    enabled: from.invocations,
  });
  const unstored = useUnstoredRuns(api);
  const rows = useMemo(
    () =>
      activityRows(
        from.events ? (events.data?.events ?? []).filter((e) => !active.trigger || e.kind === active.trigger) : [],
        from.invocations ? (invocations.data ?? []) : [],
        active,
        from.invocations ? unstored : [],
      ),
    [events.data, invocations.data, from.events, from.invocations, active, unstored],
  );
  const scripts = useMemo(() => [...new Set(rows.map(rowScript))].sort(), [rows]);
  const current = rows.find((r) => r.id === selected);
  const loading = (from.events && events.isLoading) || (from.invocations && invocations.isLoading);
  const set = (change: Partial<ActivityFilter>) => setFilter({ ...filter, ...change });
  return (
    <div className="page events-page">
      <div className="page-head">
        <h1>Events</h1>
        <span className={`pill ${live === "live" ? "ok" : live === "down" ? "error" : "pending"}`} data-testid="stream-status">
          {live === "live" ? "● live" : live === "down" ? "disconnected" : "connecting"}
        </span>
        <div className="spacer" />
      </div>
      <div className="filters">
        <input
          className="input search"
          type="search"
          placeholder="Search logs and errors…"
          aria-label="Search invocation logs and errors"
          value={textInput}
          onChange={(e) => setTextInput(e.target.value)}
          data-testid="event-search"
        />
        <select className="select" value={filter.app ?? ""} onChange={(e) => set({ app: e.target.value })} aria-label="App">
          <option value="">All apps</option>
          {apps.data?.map((a) => (
            <option key={a.id}>{a.id}</option>
          ))}
        </select>
        <select className="select" value={filter.script ?? ""} onChange={(e) => set({ script: e.target.value })} aria-label="Script">
          <option value="">All scripts</option>
          {[...new Set([...scripts, ...(filter.script ? [filter.script] : [])])].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select className="select" value={filter.status ?? ""} onChange={(e) => set({ status: e.target.value })} aria-label="Status">
          <option value="">Any status</option>
          <optgroup label="Events">
            {EVENT_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </optgroup>
          <optgroup label="Invocations">
            {INVOCATION_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </optgroup>
        </select>
        <select className="select" value={filter.trigger ?? ""} onChange={(e) => set({ trigger: e.target.value })} aria-label="Trigger">
          <option value="">Any trigger</option>
          {TRIGGERS.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </div>
      <p className="muted small events-sampling" data-testid="events-sampling-note">
        Successful HTTP runs without console output are stored only as a sample (the app's record sample rate); the rest are kept as
        per-minute aggregates — see the <a href={href({ page: "home" })}>charts</a>. This list shows them as they happen, marked{" "}
        <span className="pill not-stored">not stored</span>, until the page is reloaded.
      </p>
      <ErrorNotice error={events.error ?? invocations.error} />
      <div className="events-layout">
        <div className="card fill">
          <ActivityList rows={rows} selected={selected} onSelect={setSelected} loading={loading} />
        </div>
        <div className="card fill">
          <div className="card-head">Details</div>
          <div className="card-body scroll grow-y" data-testid="event-detail">
            {!current && <div className="empty">Select a row (↑ ↓ in the list).</div>}
            {current?.type === "invocation" && <InvocationPane record={current.record} stored={current.stored} />}
            {current?.type === "event" && <EventDetail id={current.id} />}
          </div>
        </div>
      </div>
    </div>
  );
}

function rowScript(row: ActivityRow): string {
  return row.type === "event" ? row.event.script : row.record.script;
}
