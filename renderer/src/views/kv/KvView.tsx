// KV browser: collections, keys with prefix search and cursor paging, JSON values to view and edit.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { collectionsQuery } from "../../api/queries";
import { Empty, ErrorNotice, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { KeyList } from "./KeyList";

export function KvView({ app }: { app: string }) {
  const collections = useQuery(collectionsQuery(useApi(), app));
  const [collection, setCollection] = useState<string>();
  const [newCollection, setNewCollection] = useState("");
  const active = collection ?? collections.data?.[0]?.name;
  return (
    <div className="page">
      <ErrorNotice error={collections.error} />
      <div className="kv-layout">
        <div className="card fill">
          <div className="card-head">Collections</div>
          <div className="list scroll grow-y">
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
                <span className="grow mono" title={c.name}>
                  {c.name}
                </span>
                <span className="muted small">{c.count}</span>
              </button>
            ))}
            {collection && !collections.data?.some((c) => c.name === collection) && (
              <button type="button" className="list-item active">
                <span className="grow mono" title={collection}>
                  {collection}
                </span>
                <span className="muted small">new</span>
              </button>
            )}
          </div>
          <form
            className="card-body row card-foot open-collection"
            onSubmit={(e) => {
              e.preventDefault();
              if (newCollection.trim()) setCollection(newCollection.trim());
              setNewCollection("");
            }}
          >
            <input
              className="input mono grow"
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
          <KeyList key={active} app={app} collection={active} />
        ) : (
          <div className="card span-2">
            <Empty>Pick or open a collection.</Empty>
          </div>
        )}
      </div>
    </div>
  );
}
