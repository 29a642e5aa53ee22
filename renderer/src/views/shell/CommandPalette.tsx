// Ctrl+K: jump to any app, script, KV collection of the current app, or view, by typing.
import { useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from "react";
import { appsQuery, collectionsQuery, scriptsQuery } from "../../api/queries";
import { useApi } from "../../connections/context";
import { type PaletteItem, rankItems } from "../../lib/palette";
import { href, navigate, parseRoute, routeApp } from "../../router";

const VIEWS: readonly PaletteItem[] = [
  { kind: "view", label: "Apps", route: { page: "home" } },
  { kind: "view", label: "Events", route: { page: "events" } },
  { kind: "view", label: "Dead letters", route: { page: "deadletters" } },
  { kind: "view", label: "Admin tokens", route: { page: "tokens" } },
  { kind: "view", label: "Nodes", route: { page: "nodes" } },
  { kind: "view", label: "Connections", route: { page: "connections" } },
];

export function CommandPalette({ onClose }: { onClose: () => void }) {
  const api = useApi();
  const apps = useQuery(appsQuery(api));
  const currentApp = routeApp(parseRoute(window.location.hash)) ?? apps.data?.[0]?.id;
  // Only an app the list has: an unknown app (a stale link) would answer two 404s.
  const listed = Boolean(currentApp && apps.data?.some((app) => app.id === currentApp));
  const scripts = useQuery({ ...scriptsQuery(api, currentApp ?? ""), enabled: listed });
  const collections = useQuery({ ...collectionsQuery(api, currentApp ?? ""), enabled: listed });
  const [text, setText] = useState("");
  const [index, setIndex] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);
  useEffect(() => inputRef.current?.focus(), []);

  const items = useMemo(() => {
    const all: PaletteItem[] = [...VIEWS];
    for (const app of apps.data ?? []) {
      all.push({ kind: "app", label: app.id, route: { page: "app", app: app.id, tab: "scripts" } });
      all.push({ kind: "settings", label: `${app.id} settings`, route: { page: "app", app: app.id, tab: "settings" } });
    }
    if (currentApp) {
      for (const s of scripts.data ?? [])
        all.push({ kind: "script", label: `${currentApp}/${s.name}`, route: { page: "script", app: currentApp, script: s.name } });
      for (const c of collections.data ?? [])
        all.push({ kind: "collection", label: `${currentApp} kv ${c.name}`, route: { page: "app", app: currentApp, tab: "kv" } });
    }
    return rankItems(all, text).slice(0, 50);
  }, [apps.data, scripts.data, collections.data, currentApp, text]);

  const go = (item: PaletteItem | undefined) => {
    if (!item) return;
    onClose();
    navigate(item.route);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") onClose();
    else if (event.key === "ArrowDown") setIndex(Math.min(items.length - 1, index + 1));
    else if (event.key === "ArrowUp") setIndex(Math.max(0, index - 1));
    else if (event.key === "Enter") go(items[index]);
    else return;
    event.preventDefault();
  };
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click outside the dialog closes it; Escape does from the keyboard
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape is handled on the input, which always has focus
    <div className="palette-backdrop" onClick={onClose} data-testid="palette">
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: clicks inside must not close it */}
      <div className="palette card" role="dialog" aria-modal="true" aria-label="Go to" onClick={(e) => e.stopPropagation()}>
        <input
          ref={inputRef}
          className="input palette-input"
          placeholder="Go to an app, script, collection or view…"
          aria-label="Search"
          aria-controls="palette-results"
          aria-activedescendant={items[index] ? `palette-${index}` : undefined}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setIndex(0);
          }}
          onKeyDown={onKeyDown}
          data-testid="palette-input"
        />
        <div id="palette-results" className="palette-results" role="listbox" aria-label="Results">
          {items.length === 0 && <div className="empty">No match.</div>}
          {items.map((item, i) => (
            <a
              key={`${item.kind}:${item.label}`}
              id={`palette-${i}`}
              role="option"
              aria-selected={i === index}
              tabIndex={-1}
              className={`list-item ${i === index ? "active" : ""}`}
              href={href(item.route)}
              onClick={(e) => {
                e.preventDefault();
                go(item);
              }}
              data-testid="palette-item"
            >
              <span className="pill">{item.kind}</span>
              <span className="grow mono">{item.label}</span>
            </a>
          ))}
        </div>
      </div>
    </div>
  );
}
