// An app's scripts, and the script editor: Monaco with SDK typings, save = deploy (Ctrl/Cmd+S),
// deploy errors at their line, endpoint URL, test runs, triggers and version history.
import Editor, { type OnMount } from "@monaco-editor/react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { ScriptStats } from "../components/charts/StatsCharts";
import { CopyButton, Empty, ErrorNotice, Spinner, errorText } from "../components/ui";
import { useConnection } from "../connections/context";
import { formatDateTime } from "../lib/format";
import { markerForError } from "../lib/markers";
import { monaco } from "../monaco-setup";
import { href, navigate } from "../router";
import { TestRunPanel } from "./TestRunPanel";
import { TriggersPanel } from "./TriggersPanel";
import { VersionsPanel } from "./VersionsPanel";

const TEMPLATES = {
  javascript: `/** @param {PiContext} ctx */
export default async function (ctx) {
  const visits = kv.collection("visits");
  const count = Number((await visits.get("count")) ?? 0) + 1;
  await visits.set("count", count);
  console.log("visit", count);
  return { hello: ctx.request?.query.name ?? "world", count };
}
`,
  typescript: `export default async function (ctx: PiContext): Promise<unknown> {
  const visits = kv.collection<number>("visits");
  const count = ((await visits.get("count")) ?? 0) + 1;
  await visits.set("count", count);
  console.log("visit", count);
  return { hello: ctx.request?.query.name ?? "world", count };
}
`,
};

export function ScriptView({ app, script }: { app: string; script: string | null }) {
  return script ? <ScriptEditor app={app} name={script} /> : <AppScripts app={app} />;
}

function AppScripts({ app }: { app: string }) {
  const { client, info } = useConnection();
  const queryClient = useQueryClient();
  const scripts = useQuery({ queryKey: ["scripts", info.id, app], queryFn: () => client.listScripts(app) });
  const [name, setName] = useState("");
  const remove = useMutation({
    mutationFn: () => client.deleteApp(app),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["apps", info.id] });
      navigate({ page: "home" });
    },
  });
  return (
    <>
      <div className="page-head" style={{ padding: "20px 24px 0", marginBottom: 8 }}>
        <h1>
          <span className="crumb">app /</span> {app}
        </h1>
        <div className="spacer" />
        <button
          type="button"
          className="btn danger"
          onClick={() => {
            if (confirm(`Delete app '${app}' with all its scripts, data and history?`)) remove.mutate();
          }}
        >
          Delete app
        </button>
      </div>
      <nav className="tabs">
        <a className="active" href={href({ page: "script", app, script: null })}>
          Scripts
        </a>
        <a href={href({ page: "kv", app })}>KV data</a>
      </nav>
      <div className="page">
        <ErrorNotice error={remove.error} />
        <form
          className="row"
          style={{ marginBottom: 16 }}
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) navigate({ page: "script", app, script: name.trim() });
          }}
        >
          <input
            className="input mono"
            placeholder="script-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-testid="new-script-name"
          />
          <button type="submit" className="btn primary" disabled={!name.trim()} data-testid="new-script-submit">
            New script
          </button>
        </form>
        {scripts.isLoading && <Spinner />}
        <ErrorNotice error={scripts.error} />
        {scripts.data?.length === 0 && (
          <div className="card">
            <Empty>No scripts in {app} yet. Name one above to open the editor.</Empty>
          </div>
        )}
        {scripts.data && scripts.data.length > 0 && (
          <div className="card">
            <table className="simple">
              <thead>
                <tr>
                  <th>Script</th>
                  <th>Version</th>
                  <th>Endpoint</th>
                  <th>Updated</th>
                </tr>
              </thead>
              <tbody>
                {scripts.data.map((s) => (
                  <tr key={s.name}>
                    <td>
                      <a href={href({ page: "script", app, script: s.name })} className="mono">
                        {s.name}
                      </a>
                    </td>
                    <td>v{s.currentVersion}</td>
                    <td className="mono small">{s.url}</td>
                    <td className="muted">{formatDateTime(s.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </>
  );
}

function ScriptEditor({ app, name }: { app: string; name: string }) {
  const { client, info } = useConnection();
  const queryClient = useQueryClient();
  const current = useQuery({
    queryKey: ["script", info.id, app, name],
    queryFn: async () => {
      try {
        return await client.getScript(app, name);
      } catch (error) {
        if (error instanceof ApiError && error.code === "SCRIPT_NOT_FOUND") return null;
        throw error;
      }
    },
  });
  const [language, setLanguage] = useState<"javascript" | "typescript">("javascript");
  const [source, setSource] = useState<string>();
  const [deployError, setDeployError] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  const [panel, setPanel] = useState<"test" | "triggers" | "history">("test");
  const editorRef = useRef<Parameters<OnMount>[0] | undefined>(undefined);
  const saveRef = useRef<() => void>(() => {});

  useEffect(() => {
    if (current.data === undefined || source !== undefined) return;
    if (current.data) {
      setLanguage(current.data.language);
      setSource(current.data.source);
    } else setSource(TEMPLATES.javascript);
  }, [current.data, source]);

  const deploy = useMutation({
    mutationFn: () => client.deploy(app, name, source ?? "", language),
    onMutate: () => {
      setDeployError(undefined);
      setSaved(undefined);
    },
    onSuccess: async (result) => {
      const model = editorRef.current?.getModel();
      if (model) monaco.editor.setModelMarkers(model, "picloud", []);
      setSaved(`Deployed version ${result.version}`);
      await queryClient.invalidateQueries({ queryKey: ["script", info.id, app, name] });
      await queryClient.invalidateQueries({ queryKey: ["scripts", info.id, app] });
      await queryClient.invalidateQueries({ queryKey: ["versions", info.id, app, name] });
    },
    onError: (error) => {
      setDeployError(error);
      const model = editorRef.current?.getModel();
      const marker = error instanceof ApiError ? markerForError(error, source ?? "") : undefined;
      if (model && marker) {
        monaco.editor.setModelMarkers(model, "picloud", [{ ...marker, severity: monaco.MarkerSeverity.Error }]);
        editorRef.current?.revealLineInCenter(marker.startLineNumber);
      }
    },
  });
  const removeScript = useMutation({
    mutationFn: () => client.deleteScript(app, name),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["scripts", info.id, app] });
      navigate({ page: "script", app, script: null });
    },
  });
  saveRef.current = () => {
    if (!deploy.isPending) deploy.mutate();
  };

  const onMount: OnMount = (editor) => {
    editorRef.current = editor;
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => saveRef.current());
    editor.focus();
  };

  const isNew = current.data === null;
  const url = current.data?.url;
  return (
    <div className="page">
      <div className="page-head">
        <h1>
          <a className="crumb" href={href({ page: "script", app, script: null })}>
            {app} /
          </a>{" "}
          <span className="mono">{name}</span>
        </h1>
        {current.data && <span className="pill">v{current.data.version}</span>}
        {isNew && <span className="pill pending">new — not deployed</span>}
        <select
          className="select"
          aria-label="Language"
          value={language}
          onChange={(e) => {
            const next = e.target.value as "javascript" | "typescript";
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
            {url} <CopyButton text={url} />
          </span>
        )}
        {current.data && (
          <button
            type="button"
            className="btn danger"
            onClick={() => {
              if (confirm(`Delete script '${name}' with its versions and triggers?`)) removeScript.mutate();
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
          {deploy.isPending ? "Deploying…" : "Save & deploy"}{" "}
          <kbd style={{ color: "#dfe6ff", background: "transparent", borderColor: "#7d9bf7" }}>Ctrl S</kbd>
        </button>
      </div>
      {deployError !== undefined && (
        <div className="notice error" role="alert" style={{ marginBottom: 12 }} data-testid="deploy-error">
          {errorText(deployError)}
        </div>
      )}
      {saved && (
        <div className="notice ok" style={{ marginBottom: 12 }} data-testid="deploy-ok">
          {saved}
        </div>
      )}
      <ErrorNotice error={current.error ?? removeScript.error} />
      <div className="grid2">
        <div className="editor-wrap" data-testid="editor" data-ready={source !== undefined ? "true" : "false"}>
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
              options={{ minimap: { enabled: false }, fontSize: 13, scrollBeyondLastLine: false, automaticLayout: true, tabSize: 2 }}
            />
          )}
        </div>
        <div className="stack" style={{ minWidth: 0 }}>
          <div className="row" role="tablist">
            {(["test", "triggers", "history"] as const).map((p) => (
              <button
                key={p}
                type="button"
                role="tab"
                aria-selected={panel === p}
                className={`btn small ${panel === p ? "primary" : ""}`}
                onClick={() => setPanel(p)}
                data-testid={`panel-${p}`}
              >
                {p === "test" ? "Test run" : p === "triggers" ? "Triggers" : "History"}
              </button>
            ))}
          </div>
          {isNew && panel !== "test" ? (
            <div className="card">
              <Empty>Deploy the script first.</Empty>
            </div>
          ) : panel === "test" ? (
            <TestRunPanel app={app} name={name} deployed={!isNew} />
          ) : panel === "triggers" ? (
            <TriggersPanel app={app} name={name} />
          ) : (
            <VersionsPanel
              app={app}
              name={name}
              editorSource={source ?? ""}
              language={language}
              onRestored={(restored) => setSource(restored)}
            />
          )}
        </div>
      </div>
      {!isNew && <ScriptStats app={app} script={name} />}
    </div>
  );
}
