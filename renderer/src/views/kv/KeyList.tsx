// The keys of one collection (virtualised, so many thousands stay fast), and the selected value.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";
import { kvKeysQuery } from "../../api/queries";
import { Empty, ErrorNotice, MiddleText, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { ValueEditor } from "./ValueEditor";

export function KeyList({ app, collection }: { app: string; collection: string }) {
  const [prefix, setPrefix] = useState("");
  const [selected, setSelected] = useState<string>();
  const [creating, setCreating] = useState(false);
  /** The key just saved: its editor (remounted when a new key becomes a listed one) still says "Saved". */
  const [savedKey, setSavedKey] = useState<string>();
  const keys = useInfiniteQuery(kvKeysQuery(useApi(), app, collection, prefix));
  const items = keys.data?.pages.flatMap((p) => p.items) ?? [];
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: items.length, getScrollElement: () => scrollRef.current, estimateSize: () => 37, overscan: 12 });
  const virtualItems = virtual.getVirtualItems();
  const lastIndex = virtualItems.at(-1)?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= items.length - 20 && keys.hasNextPage && !keys.isFetchingNextPage) void keys.fetchNextPage();
  }, [lastIndex, items.length, keys]);
  const entry = items.find((i) => i.key === selected);
  return (
    <>
      <div className="card fill">
        <div className="card-head">
          <MiddleText className="mono" text={collection} testId="kv-collection-title" />
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
        <div className="card-body tight-bottom">
          <input
            className="input mono full"
            placeholder="Filter by key prefix…"
            aria-label="Key prefix"
            value={prefix}
            onChange={(e) => setPrefix(e.target.value)}
            data-testid="kv-prefix"
          />
        </div>
        <div ref={scrollRef} className="scroll grow-y" data-testid="kv-keys">
          {keys.isLoading && (
            <div className="card-body">
              <Spinner />
            </div>
          )}
          <ErrorNotice error={keys.error} />
          {keys.data && items.length === 0 && <Empty>No keys{prefix ? ` starting with "${prefix}"` : ""}.</Empty>}
          <div className="virtual" style={{ height: virtual.getTotalSize() }}>
            {virtualItems.map((row) => {
              const item = items[row.index];
              if (!item) return null;
              return (
                <button
                  key={item.key}
                  type="button"
                  className={`list-item virtual-row ${item.key === selected ? "active" : ""}`}
                  style={{ transform: `translateY(${row.start}px)`, height: row.size }}
                  onClick={() => {
                    setSelected(item.key);
                    setSavedKey(undefined);
                    setCreating(false);
                  }}
                  data-testid="kv-key"
                >
                  <MiddleText className="grow mono" text={item.key} />
                </button>
              );
            })}
          </div>
        </div>
        <div className="card-foot muted small">
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
          justSaved={!creating && entry?.key === savedKey}
          onSaved={(key) => {
            setSavedKey(key);
            setCreating(false);
            setSelected(key);
          }}
          onDeleted={() => setSelected(undefined)}
        />
      ) : (
        <div className="card">
          <Empty>Select a key to view and edit its value.</Empty>
        </div>
      )}
    </>
  );
}
