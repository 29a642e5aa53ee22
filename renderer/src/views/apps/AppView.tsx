// One app: its header and tabs (scripts, KV data, settings), once the app is known to exist.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { appQuery } from "../../api/queries";
import { ErrorNotice, NotFound, Spinner, isNotFound } from "../../components/ui";
import { useApi } from "../../connections/context";
import { type AppTab, href } from "../../router";
import { KvView } from "../kv/KvView";
import { AppSettingsView } from "./AppSettingsView";
import { ScriptList } from "./ScriptList";

const TABS: readonly { tab: AppTab; label: string }[] = [
  { tab: "scripts", label: "Scripts" },
  { tab: "kv", label: "KV data" },
  { tab: "settings", label: "Settings" },
];

export function AppView({ app, tab }: { app: string; tab: AppTab }) {
  const found = useQuery(appQuery(useApi(), app));
  if (isNotFound(found.error)) return <AppNotFound app={app} />;
  if (!found.data)
    return (
      <div className="page">
        {found.isLoading && <Spinner />}
        <ErrorNotice error={found.error} />
      </div>
    );
  let content: ReactNode;
  if (tab === "kv") content = <KvView key={app} app={app} />;
  else if (tab === "settings") content = <AppSettingsView key={app} app={app} />;
  else content = <ScriptList key={app} app={app} />;
  return (
    <>
      <div className="page-head app-head">
        <h1>
          <span className="crumb">app /</span> <span className="mono">{app}</span>
        </h1>
      </div>
      <nav className="tabs" aria-label={`App ${app}`}>
        {TABS.map((t) => (
          <a
            key={t.tab}
            className={t.tab === tab ? "active" : ""}
            aria-current={t.tab === tab ? "page" : undefined}
            href={href({ page: "app", app, tab: t.tab })}
            data-testid={`tab-${t.tab}`}
          >
            {t.label}
          </a>
        ))}
      </nav>
      {content}
    </>
  );
}

/** An app id that names no app (a stale link, a typo): only that, no tabs to act on it. */
export function AppNotFound({ app }: { app: string }) {
  return (
    <NotFound back={href({ page: "home" })} backLabel="All apps">
      No app named '<span className="mono">{app}</span>'.
    </NotFound>
  );
}
