// KV browser: collections, keys with prefix search and cursor paging (virtualised, so many thousands
// of keys stay fast), JSON values with validation, create, edit and delete.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";
import { Empty, ErrorNotice, Spinner } from "../components/ui";
import { useConnection } from "../connections/context";
import { parseJsonInput, pretty } from "../lib/json";
import { href } from "../router";

export function KvView({ app }: { app: string }) {
  const { client, info } = useConnection();
  const collections = useQuery({ queryKey: ["collections", info.id, app], queryFn: () => client.listCollections(app) });
  const [collection, setCollection] = useState<string>();
  const [newCollection, setNewCollection] = useState("");
  const active = collection ?? collections.data?.[0]?.name;
  return (
    <>
      <div className="page-head" style={{ padding: "20px 24px 0", marginBottom: 8 }}>
        <h1>
          <span className="crumb">app /</span> {app}
        </h1>
      </div>
      <nav className="tabs">
        <a href={href({ page: "script", app, script: null })}>Scripts</a>
        <a className="active" href={href({ page: "kv", app })}>
          KV data
        </a>
      </nav>
      <div className="page">
        <ErrorNotice error={collections.error} />
        <div className="kv-layout">
          <div className="card fill">
            <div className="card-head">Collections</div>
            <div className="list scroll" style={{ flex: 1 }}>
              {collections.isLoading && (
                <div className="card-body">
                  <Spinner />
                </div>
              )}
              {collections.data?.length === 0 && !collection && <Empty>No data yet.</Empty>}
              {collections.data?.map((c) => (
                <button
                  key={c.name}
                  type="button"
                  className={`list-item ${c.name === active ? "active" : ""}`}
                  onClick={() => setCollection(c.name)}
                  data-testid={`collection-${c.name}`}
                >
                  <span className="grow mono">{c.name}</span>
                  <span className="muted small">{c.count}</span>
                </button>
              ))}
              {collection && !collections.data?.some((c) => c.name === collection) && (
                <button type="button" className="list-item active">
                  <span className="grow mono">{collection}</span>
                  <span className="muted small">new</span>
                </button>
              )}
            </div>
            <form
              className="card-body row"
              style={{ borderTop: "1px solid var(--line)" }}
              onSubmit={(e) => {
                e.preventDefault();
                if (newCollection.trim()) setCollection(newCollection.trim());
                setNewCollection("");
              }}
            >
              <input
                className="input mono"
                style={{ flex: 1 }}
                placeholder="collection"
                value={newCollection}
                onChange={(e) => setNewCollection(e.target.value)}
                aria-label="Open collection"
              />
              <button type="submit" className="btn small">
                Open
              </button>
            </form>
          </div>
          {active ? (
            <KeysAndValue key={active} app={app} collection={active} />
          ) : (
            <div className="card" style={{ gridColumn: "2 / 4" }}>
              <Empty>Pick or open a collection.</Empty>
            </div>
          )}
        </div>
      </div>
    </>
  );
}

function KeysAndValue({ app, collection }: { app: string; collection: string }) {
  const { client, info } = useConnection();
  const queryClient = useQueryClient();
  const [prefix, setPrefix] = useState("");
  const [selected, setSelected] = useState<string>();
  const [creating, setCreating] = useState(false);
  const keys = useInfiniteQuery({
    queryKey: ["keys", info.id, app, collection, prefix],
    queryFn: ({ pageParam }) => client.listKeys(app, collection, { prefix, cursor: pageParam, limit: 200 }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.cursor,
  });
  const items = keys.data?.pages.flatMap((p) => p.items) ?? [];
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: items.length, getScrollElement: () => scrollRef.current, estimateSize: () => 37, overscan: 12 });
  const virtualItems = virtual.getVirtualItems();
  const lastIndex = virtualItems.at(-1)?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= items.length - 20 && keys.hasNextPage && !keys.isFetchingNextPage) void keys.fetchNextPage();
  }, [lastIndex, items.length, keys]);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ["keys", info.id, app, collection] });
    await queryClient.invalidateQueries({ queryKey: ["collections", info.id, app] });
  };
  const entry = items.find((i) => i.key === selected);
  return (
    <>
      <div className="card fill">
        <div className="card-head">
          <span className="mono">{collection}</span>
          <div className="spacer" />
          <button
            type="button"
            className="btn small"
            onClick={() => {
              setCreating(true);
              setSelected(undefined);
            }}
            data-testid="kv-new-key"
          >
            New key
          </button>
        </div>
        <div className="card-body" style={{ paddingBottom: 8 }}>
          <input
            className="input mono"
            style={{ width: "100%" }}
            placeholder="Filter by key prefix…"
            value={prefix}
            onChange={(e) => setPrefix(e.target.value)}
            data-testid="kv-prefix"
          />
        </div>
        <div ref={scrollRef} className="scroll" style={{ flex: 1 }} data-testid="kv-keys">
          {keys.isLoading && (
            <div className="card-body">
              <Spinner />
            </div>
          )}
          <ErrorNotice error={keys.error} />
          {keys.data && items.length === 0 && <Empty>No keys{prefix ? ` starting with "${prefix}"` : ""}.</Empty>}
          <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
            {virtualItems.map((row) => {
              const item = items[row.index];
              if (!item) return null;
              return (
                <button
                  key={item.key}
                  type="button"
                  className={`list-item ${item.key === selected ? "active" : ""}`}
                  style={{ position: "absolute", top: 0, transform: `translateY(${row.start}px)`, height: row.size }}
                  onClick={() => {
                    setSelected(item.key);
                    setCreating(false);
                  }}
                  data-testid="kv-key"
                >
                  <span className="grow mono">{item.key}</span>
                </button>
              );
            })}
          </div>
        </div>
        <div className="card-body muted small" style={{ borderTop: "1px solid var(--line)", padding: "6px 14px" }}>
          {items.length} key{items.length === 1 ? "" : "s"} loaded{keys.hasNextPage ? " · scroll for more" : ""}
          {keys.isFetchingNextPage && " · loading…"}
        </div>
      </div>
      {creating || entry ? (
        <ValueEditor
          key={creating ? "new" : entry?.key}
          app={app}
          collection={collection}
          entry={creating ? undefined : entry}
          onSaved={async (key) => {
            setCreating(false);
            await refresh();
            setSelected(key);
          }}
          onDeleted={async () => {
            setSelected(undefined);
            await refresh();
          }}
        />
      ) : (
        <div className="card">
          <Empty>Select a key to view and edit its value.</Empty>
        </div>
      )}
    </>
  );
}

function ValueEditor(props: {
  app: string;
  collection: string;
  entry: { key: string; value: unknown } | undefined;
  onSaved: (key: string) => void;
  onDeleted: () => void;
}) {
  const { client } = useConnection();
  const [key, setKey] = useState(props.entry?.key ?? "");
  const [text, setText] = useState(props.entry ? pretty(props.entry.value) : "{\n  \n}");
  const parsed = parseJsonInput(text);
  const save = useMutation({
    mutationFn: () => {
      if (!parsed.ok) throw new Error(parsed.error);
      return client.putValue(props.app, props.collection, key, parsed.value);
    },
    onSuccess: () => props.onSaved(key),
  });
  const remove = useMutation({ mutationFn: () => client.deleteKey(props.app, props.collection, key), onSuccess: props.onDeleted });
  return (
    <div className="card fill" data-testid="kv-value">
      <div className="card-head">{props.entry ? <span className="mono">{props.entry.key}</span> : "New key"}</div>
      <div className="card-body stack" style={{ flex: 1, minHeight: 0 }}>
        {!props.entry && (
          <label className="field">
            Key
            <input className="input mono" value={key} onChange={(e) => setKey(e.target.value)} data-testid="kv-key-input" />
          </label>
        )}
        <label className="field" style={{ flex: 1, minHeight: 0 }}>
          Value (JSON)
          <textarea
            className="input mono"
            style={{ flex: 1, minHeight: 240, resize: "vertical" }}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if ((e.ctrlKey || e.metaKey) && e.key === "s") {
                e.preventDefault();
                if (parsed.ok && key) save.mutate();
              }
            }}
            spellCheck={false}
            data-testid="kv-value-input"
          />
        </label>
        {!parsed.ok && (
          <div className="notice warn" data-testid="kv-json-error">
            {parsed.error}
          </div>
        )}
        <ErrorNotice error={save.error ?? remove.error} />
        <div className="row">
          <button
            type="button"
            className="btn primary"
            disabled={!parsed.ok || !key || save.isPending}
            onClick={() => save.mutate()}
            data-testid="kv-save"
          >
            Save
          </button>
          {props.entry && (
            <button
              type="button"
              className="btn danger"
              onClick={() => {
                if (confirm(`Delete key '${key}'?`)) remove.mutate();
              }}
              data-testid="kv-delete"
            >
              Delete
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
