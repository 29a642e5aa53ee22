// The script editor: Monaco with SDK typings, save = deploy (Ctrl/Cmd+S), deploy and run-time
// errors at their line, a "modified" marker with a guard against losing edits, and side panels
// for test runs, triggers, version history and the script's own settings.
import Editor, { type OnMount } from "@monaco-editor/react";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { ApiError } from "../../api/client";
import { useDeleteScript, useDeploy } from "../../api/mutations";
import { scriptQuery, scriptsQuery } from "../../api/queries";
import { ScriptStats } from "../../components/charts/StatsCharts";
import { CopyButton, Empty, ErrorNotice, Spinner, errorText, isNotFound } from "../../components/ui";
import { useApi } from "../../connections/context";
import { type EditorMarker, markerForError } from "../../lib/markers";
import { monaco } from "../../monaco-setup";
import { AppNotFound } from "../apps/AppView";
import { href, navigate, useLeaveGuard } from "../../router";
import { type Language, TEMPLATES } from "./templates";
import { SettingsPanel } from "./SettingsPanel";
import { TestRunPanel } from "./TestRunPanel";
import { TriggersPanel } from "./TriggersPanel";
import { VersionsPanel } from "./VersionsPanel";

type Panel = "test" | "triggers" | "history" | "settings";
const PANELS: readonly { id: Panel; label: string }[] = [
  { id: "test", label: "Test run" },
  { id: "triggers", label: "Triggers" },
  { id: "history", label: "History" },
  { id: "settings", label: "Settings" },
];

export function ScriptEditor({ app, name }: { app: string; name: string }) {
  const api = useApi();
  // The app's list says whether the name is deployed: a new script's GET would only answer 404
  // (which Chromium logs as a console error). A cached list is trusted only while fresh.
  const scripts = useQuery(scriptsQuery(api, app));
  const listKnown = scripts.data !== undefined && (scripts.isFetchedAfterMount || !scripts.isStale);
  const listed = listKnown ? scripts.data?.some((s) => s.name === name) : undefined;
  const fetched = useQuery({ ...scriptQuery(api, app, name), enabled: listed === true });
  const current = { data: listed === false ? (fetched.data ?? null) : fetched.data, error: scripts.error ?? fetched.error };
  const [language, setLanguage] = useState<Language>("javascript");
  const [source, setSource] = useState<string>();
  const [panel, setPanel] = useState<Panel>("test");
  const [saved, setSaved] = useState<string>();
  const [errorMarkers, setErrorMarkers] = useState(0);
  const editorRef = useRef<Parameters<OnMount>[0] | undefined>(undefined);
  const saveRef = useRef<() => void>(() => {});
  const deploy = useDeploy(app, name);
  const removeScript = useDeleteScript(app, name);

  useEffect(() => {
    if (current.data === undefined || source !== undefined) return;
    if (current.data) {
      setLanguage(current.data.language);
      setSource(current.data.source);
    } else setSource(TEMPLATES.javascript);
  }, [current.data, source]);

  const baseline = current.data ? current.data.source : TEMPLATES[language];
  const dirty = source !== undefined && (source !== baseline || (current.data ? current.data.language !== language : false));
  useLeaveGuard(dirty && !removeScript.isSuccess ? `'${name}' has unsaved changes. Leave and lose them?` : null);

  /** Shows errors in the editor at their line: one owner per source (deploy, test run). */
  const showMarker = (owner: string, marker: EditorMarker | undefined) => {
    const model = editorRef.current?.getModel();
    if (!model) return;
    monaco.editor.setModelMarkers(model, owner, marker ? [{ ...marker, severity: monaco.MarkerSeverity.Error }] : []);
    if (marker) editorRef.current?.revealLineInCenter(marker.startLineNumber);
  };

  saveRef.current = () => {
    if (deploy.isPending || source === undefined) return;
    setSaved(undefined);
    deploy.mutate(
      { source, language },
      {
        onSuccess: (result) => {
          showMarker("picloud", undefined);
          setSaved(`Deployed version ${result.version}`);
        },
        onError: (error) => showMarker("picloud", error instanceof ApiError ? markerForError(error, source) : undefined),
      },
    );
  };

  const onMount: OnMount = (editor) => {
    editorRef.current = editor;
    // How many errors the editor shows (type checker, deploy, test run): for the status line and tests.
    const markers = monaco.editor.onDidChangeMarkers((uris) => {
      const model = editor.getModel();
      if (!model || !uris.some((uri) => uri.toString() === model.uri.toString())) return;
      setErrorMarkers(
        monaco.editor.getModelMarkers({ resource: model.uri }).filter((m) => m.severity === monaco.MarkerSeverity.Error).length,
      );
    });
    editor.onDidDispose(() => markers.dispose());
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => saveRef.current());
    editor.focus();
  };

  if (isNotFound(scripts.error)) return <AppNotFound app={app} />;
  const isNew = current.data === null;
  const url = current.data?.url;
  return (
    <div className="page script-page">
      <div className="page-head">
        <h1>
          <a className="crumb" href={href({ page: "app", app, tab: "scripts" })}>
            {app} /
          </a>{" "}
          <span className="mono">{name}</span>
        </h1>
        {current.data && <span className="pill">v{current.data.version}</span>}
        {isNew && <span className="pill pending">new — not deployed</span>}
        {dirty && !isNew && (
          <span className="pill pending" data-testid="dirty-marker" title="The editor differs from the deployed version">
            modified
          </span>
        )}
        <select
          className="select"
          aria-label="Language"
          value={language}
          onChange={(e) => {
            const next = e.target.value as Language;
            if (isNew && source === TEMPLATES[language]) setSource(TEMPLATES[next]);
            setLanguage(next);
          }}
        >
          <option value="javascript">JavaScript</option>
          <option value="typescript">TypeScript</option>
        </select>
        <div className="spacer" />
        {url && (
          <span className="endpoint" data-testid="endpoint-url">
            <span className="endpoint-url">{url}</span> <CopyButton text={url} />
          </span>
        )}
        {current.data && (
          <button
            type="button"
            className="btn danger"
            onClick={() => {
              if (confirm(`Delete script '${name}' with its versions and triggers?`))
                removeScript.mutate(undefined, { onSuccess: () => navigate({ page: "app", app, tab: "scripts" }) });
            }}
            data-testid="delete-script"
          >
            Delete
          </button>
        )}
        <button
          type="button"
          className="btn primary"
          onClick={() => saveRef.current()}
          disabled={deploy.isPending || source === undefined}
          data-testid="deploy"
        >
          {deploy.isPending ? "Deploying…" : "Save & deploy"} <kbd className="on-primary">Ctrl S</kbd>
        </button>
      </div>
      {deploy.isError && (
        <div className="notice error spaced" role="alert" data-testid="deploy-error">
          {errorText(deploy.error)}
        </div>
      )}
      {saved && !deploy.isError && (
        <div className="notice ok spaced" role="status" data-testid="deploy-ok">
          {saved}
        </div>
      )}
      <ErrorNotice error={current.error ?? removeScript.error} />
      <div className="editor-layout">
        <div className="editor-wrap" data-testid="editor" data-ready={source !== undefined ? "true" : "false"} data-errors={errorMarkers}>
          {source === undefined ? (
            <div className="page">
              <Spinner />
            </div>
          ) : (
            <Editor
              path={`file:///scripts/${app}/${name}.${language === "typescript" ? "ts" : "js"}`}
              language={language}
              value={source}
              onChange={(value) => setSource(value ?? "")}
              onMount={onMount}
              options={{
                minimap: { enabled: false },
                fontSize: 13,
                scrollBeyondLastLine: false,
                automaticLayout: true,
                tabSize: 2,
                // Hovers and suggestion details would otherwise be clipped by the editor's box.
                fixedOverflowWidgets: true,
              }}
            />
          )}
        </div>
        <div className="stack side-panels">
          <div className="row" role="tablist" aria-label="Script panels">
            {PANELS.map((p) => (
              <button
                key={p.id}
                type="button"
                role="tab"
                aria-selected={panel === p.id}
                className={`btn small ${panel === p.id ? "primary" : ""}`}
                onClick={() => setPanel(p.id)}
                data-testid={`panel-${p.id}`}
              >
                {p.label}
              </button>
            ))}
          </div>
          {isNew && panel !== "test" ? (
            <div className="card">
              <Empty>Deploy the script first.</Empty>
            </div>
          ) : panel === "test" ? (
            <TestRunPanel
              app={app}
              name={name}
              deployed={!isNew}
              onRunError={(error) => showMarker("picloud-run", error ? markerForError(error, source ?? "") : undefined)}
            />
          ) : panel === "triggers" ? (
            <TriggersPanel app={app} name={name} />
          ) : panel === "settings" ? (
            <SettingsPanel app={app} name={name} />
          ) : (
            <VersionsPanel app={app} name={name} editorSource={source ?? ""} language={language} onRestored={setSource} />
          )}
        </div>
      </div>
      {!isNew && <ScriptStats app={app} script={name} />}
    </div>
  );
}
