// Version history: every deploy, a diff against the editor, and restore (recorded as a new version).
// Choosing a version opens its diff wide, over the page (the side panel is too narrow for code
// lines); Escape or "Narrow" puts it back in the panel.
import { DiffEditor, type DiffOnMount } from "@monaco-editor/react";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useRestoreVersion } from "../../api/mutations";
import { versionQuery, versionsQuery } from "../../api/queries";
import { ErrorNotice, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { formatDateTime } from "../../lib/format";

type DiffEditorInstance = Parameters<DiffOnMount>[0];

export function VersionsPanel(props: {
  app: string;
  name: string;
  editorSource: string;
  language: string;
  onRestored: (source: string) => void;
}) {
  const { app, name } = props;
  const api = useApi();
  const versions = useQuery(versionsQuery(api, app, name));
  const [selected, setSelected] = useState<number>();
  const [wide, setWide] = useState(false);
  useEffect(() => {
    if (!wide) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") setWide(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [wide]);
  const chosen = selected ?? versions.data?.[1]?.version ?? versions.data?.[0]?.version;
  const old = useQuery({ ...versionQuery(api, app, name, chosen ?? 0), enabled: chosen !== undefined });
  const restore = useRestoreVersion(app, name);
  const diffRef = useRef<DiffEditorInstance>(undefined);
  // The library disposes the models before the diff editor lets go of them ("TextModel got
  // disposed before DiffEditorWidget model got reset"): keep them, detach, then dispose ourselves.
  useEffect(
    () => () => {
      const editor = diffRef.current;
      const model = editor?.getModel();
      try {
        editor?.setModel(null);
      } catch {
        // Already disposed by the library: nothing holds the models any more.
      }
      setTimeout(() => {
        model?.original.dispose();
        model?.modified.dispose();
      }, 0);
    },
    [],
  );
  return (
    <div className="card" data-testid="history">
      <div className="card-head">History</div>
      {versions.isLoading && (
        <div className="card-body">
          <Spinner />
        </div>
      )}
      <div className="list scroll versions-list">
        {versions.data?.map((v, i) => (
          <button
            key={v.version}
            type="button"
            className={`list-item ${v.version === chosen ? "active" : ""}`}
            onClick={() => {
              setSelected(v.version);
              setWide(true);
            }}
            data-testid={`version-${v.version}`}
          >
            <strong>v{v.version}</strong>
            <span className="grow muted small">
              {formatDateTime(v.createdAt)}
              {v.restoredFrom ? ` · restored from v${v.restoredFrom}` : ""}
            </span>
            {i === 0 && <span className="pill ok">current</span>}
          </button>
        ))}
      </div>
      {old.data && (
        <div className={`card-body stack ${wide ? "diff-overlay" : ""}`} data-testid={wide ? "diff-wide" : undefined}>
          <div className="row nowrap">
            <div className="muted small grow">
              v{old.data.version} ({wide ? "left" : "red"}) against the editor ({wide ? "right" : "green"})
            </div>
            <button type="button" className="btn small" onClick={() => setWide(!wide)} data-testid="diff-toggle-wide">
              {wide ? "Narrow (Esc)" : "Widen"}
            </button>
          </div>
          <div className="diff-wrap">
            <DiffEditor
              original={old.data.source}
              modified={props.editorSource}
              language={props.language}
              keepCurrentOriginalModel
              keepCurrentModifiedModel
              onMount={(editor) => {
                diffRef.current = editor;
              }}
              options={{
                readOnly: true,
                renderSideBySide: wide,
                minimap: { enabled: false },
                fontSize: 12,
                automaticLayout: true,
                scrollBeyondLastLine: false,
                fixedOverflowWidgets: true,
              }}
            />
          </div>
          <ErrorNotice error={restore.error} />
          <div>
            <button
              type="button"
              className="btn"
              disabled={restore.isPending || versions.data?.[0]?.version === old.data.version}
              onClick={() => {
                const source = old.data.source;
                restore.mutate(old.data.version, {
                  onSuccess: () => {
                    setWide(false);
                    props.onRestored(source);
                  },
                });
              }}
              data-testid="restore"
            >
              Restore v{old.data.version}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
