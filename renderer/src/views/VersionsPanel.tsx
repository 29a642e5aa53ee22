// Version history: every deploy, a diff against the editor, and restore (recorded as a new version).
import { DiffEditor } from "@monaco-editor/react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorNotice, Spinner } from "../components/ui";
import { useConnection } from "../connections/context";
import { formatDateTime } from "../lib/format";

export function VersionsPanel(props: {
  app: string;
  name: string;
  editorSource: string;
  language: string;
  onRestored: (source: string) => void;
}) {
  const { app, name } = props;
  const { client, info } = useConnection();
  const queryClient = useQueryClient();
  const versions = useQuery({ queryKey: ["versions", info.id, app, name], queryFn: () => client.listVersions(app, name) });
  const [selected, setSelected] = useState<number>();
  const chosen = selected ?? versions.data?.[1]?.version ?? versions.data?.[0]?.version;
  const old = useQuery({
    queryKey: ["version", info.id, app, name, chosen],
    queryFn: () => client.getVersion(app, name, chosen as number),
    enabled: chosen !== undefined,
  });
  const restore = useMutation({
    mutationFn: (version: number) => client.restore(app, name, version),
    onSuccess: async () => {
      if (old.data) props.onRestored(old.data.source);
      await queryClient.invalidateQueries({ queryKey: ["versions", info.id, app, name] });
      await queryClient.invalidateQueries({ queryKey: ["script", info.id, app, name] });
      await queryClient.invalidateQueries({ queryKey: ["scripts", info.id, app] });
    },
  });
  return (
    <div className="card" data-testid="history">
      <div className="card-head">History</div>
      {versions.isLoading && (
        <div className="card-body">
          <Spinner />
        </div>
      )}
      <div className="list scroll" style={{ maxHeight: 220 }}>
        {versions.data?.map((v, i) => (
          <button
            key={v.version}
            type="button"
            className={`list-item ${v.version === chosen ? "active" : ""}`}
            onClick={() => setSelected(v.version)}
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
        <div className="card-body stack">
          <div className="muted small">v{old.data.version} (left) against the editor (right)</div>
          <div className="diff-wrap">
            <DiffEditor
              original={old.data.source}
              modified={props.editorSource}
              language={props.language}
              options={{
                readOnly: true,
                renderSideBySide: false,
                minimap: { enabled: false },
                fontSize: 12,
                automaticLayout: true,
                scrollBeyondLastLine: false,
              }}
            />
          </div>
          <ErrorNotice error={restore.error} />
          <div>
            <button
              type="button"
              className="btn"
              disabled={restore.isPending || versions.data?.[0]?.version === old.data.version}
              onClick={() => restore.mutate(old.data.version)}
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
