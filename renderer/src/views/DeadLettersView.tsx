// Dead letters: list, inspect the original event and every attempt, replay or delete one or many.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { DetailTable, Empty, ErrorNotice, Json, Spinner } from "../components/ui";
import { useConnection } from "../connections/context";
import { formatDateTime, formatTime } from "../lib/format";

export function DeadLettersView() {
  const { client, info } = useConnection();
  const queryClient = useQueryClient();
  const [app, setApp] = useState("");
  const apps = useQuery({ queryKey: ["apps", info.id], queryFn: () => client.listApps() });
  const letters = useQuery({
    queryKey: ["deadletters", "list", info.id, app],
    queryFn: () => client.listDeadLetters(app || undefined),
    refetchInterval: 10_000,
  });
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [selectedId, setSelectedId] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["deadletters"] });
  const replay = useMutation({
    mutationFn: (ids: string[]) => client.replayDeadLetters(ids),
    onSuccess: async (result) => {
      setNotice(`Replayed ${result.replayed.length} dead letter${result.replayed.length === 1 ? "" : "s"} as new events.`);
      setChecked(new Set());
      setSelectedId(undefined);
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (ids: string[]) => client.deleteDeadLetters(ids),
    onSuccess: async (result) => {
      setNotice(`Deleted ${result.deleted.length} dead letter${result.deleted.length === 1 ? "" : "s"}.`);
      setChecked(new Set());
      setSelectedId(undefined);
      await refresh();
    },
  });
  const list = letters.data?.deadLetters ?? [];
  const selected = list.find((l) => l.id === selectedId);
  const toggle = (id: string) => {
    const next = new Set(checked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setChecked(next);
  };
  const ids = [...checked];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Dead letters</h1>
        <span className="badge neutral">{letters.data?.total ?? 0}</span>
        <div className="spacer" />
        <select className="select" value={app} onChange={(e) => setApp(e.target.value)} aria-label="App">
          <option value="">All apps</option>
          {apps.data?.map((a) => (
            <option key={a.id}>{a.id}</option>
          ))}
        </select>
        <button
          type="button"
          className="btn primary"
          disabled={ids.length === 0 || replay.isPending}
          onClick={() => replay.mutate(ids)}
          data-testid="dl-replay"
        >
          Replay {ids.length > 0 ? ids.length : ""}
        </button>
        <button
          type="button"
          className="btn danger"
          disabled={ids.length === 0 || remove.isPending}
          onClick={() => {
            if (confirm(`Delete ${ids.length} dead letter(s)?`)) remove.mutate(ids);
          }}
          data-testid="dl-delete"
        >
          Delete {ids.length > 0 ? ids.length : ""}
        </button>
      </div>
      {notice && (
        <div className="notice ok" style={{ marginBottom: 12 }} data-testid="dl-notice">
          {notice}
        </div>
      )}
      <ErrorNotice error={letters.error ?? replay.error ?? remove.error} />
      <div className="events-layout">
        <div className="card fill">
          <div className="list-item" style={{ cursor: "default", fontSize: 12, color: "var(--muted)" }}>
            <input
              type="checkbox"
              aria-label="Select all"
              checked={list.length > 0 && checked.size === list.length}
              onChange={(e) => setChecked(e.target.checked ? new Set(list.map((l) => l.id)) : new Set())}
            />
            <span className="grow">Script · last error</span>
            <span>Attempts</span>
            <span style={{ width: 150 }}>Failed at</span>
          </div>
          <div className="scroll" style={{ flex: 1 }} data-testid="dl-list">
            {letters.isLoading && (
              <div className="card-body">
                <Spinner />
              </div>
            )}
            {letters.data && list.length === 0 && <Empty>No dead letters. Events that fail every attempt land here.</Empty>}
            {list.map((letter) => (
              <div key={letter.id} className={`list-item ${letter.id === selectedId ? "active" : ""}`} data-testid="dl-item">
                <input
                  type="checkbox"
                  aria-label={`Select ${letter.id}`}
                  checked={checked.has(letter.id)}
                  onChange={() => toggle(letter.id)}
                />
                <button
                  type="button"
                  className="grow"
                  style={{ background: "none", border: 0, textAlign: "left", cursor: "pointer", padding: 0 }}
                  onClick={() => setSelectedId(letter.id)}
                >
                  <span className="mono">
                    {letter.app}/{letter.script}
                  </span>{" "}
                  <span className="muted small">{letter.attempts.at(-1)?.error.message}</span>
                </button>
                <span className="small">{letter.attempts.length}</span>
                <span className="muted small" style={{ width: 150 }}>
                  {formatDateTime(letter.createdAt)}
                </span>
              </div>
            ))}
          </div>
        </div>
        <div className="card fill">
          <div className="card-head">Details</div>
          <div className="card-body scroll stack" style={{ flex: 1 }} data-testid="dl-detail">
            {!selected && <Empty>Select a dead letter to see its event and attempts.</Empty>}
            {selected && (
              <>
                <DetailTable
                  rows={[
                    { label: "Script", value: <span className="mono">{`${selected.app}/${selected.script} v${selected.version}`}</span> },
                    { label: "Event", value: <span className="mono small">{selected.eventId}</span> },
                    { label: "Handler", value: selected.handlerStatus ?? "no dead-letter handler" },
                  ]}
                />
                <div className="muted small">Original event</div>
                <Json value={selected.event} testId="dl-event" />
                <div className="muted small">Attempts</div>
                {selected.attempts.map((attempt) => (
                  <div key={attempt.attempt} className="notice error small">
                    #{attempt.attempt} at {formatTime(attempt.at)} · {Math.round(attempt.durationMs)} ms:{" "}
                    <strong>{attempt.error.code}</strong> {attempt.error.message}
                  </div>
                ))}
                <div className="row">
                  <button type="button" className="btn primary" onClick={() => replay.mutate([selected.id])} data-testid="dl-replay-one">
                    Replay
                  </button>
                  <button type="button" className="btn danger" onClick={() => remove.mutate([selected.id])}>
                    Delete
                  </button>
                </div>
              </>
            )}
          </div>
        </div>
      </div>
    </div>
  );
}
