// Version history: every deploy, a diff against the editor, and restore (recorded as a new version).
// Choosing a version opens its diff wide, as a modal dialog over the page (the side panel is too
// narrow for code lines); Escape or "Narrow" puts it back in the panel and focus back on the button
// that opened it. One native <dialog> element in both places, so the diff editor is never remounted:
// open without focus steps (the `open` attribute) in the panel, showModal() when wide (backdrop, the
// page inert behind it, focus inside; Tab wraps around within it).
import { DiffEditor, type DiffOnMount } from "@monaco-editor/react";
import { useQuery } from "@tanstack/react-query";
import { type KeyboardEvent as ReactKeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useRestoreVersion } from "../../api/mutations";
import { versionQuery, versionsQuery } from "../../api/queries";
import { ErrorNotice, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { formatDateTime } from "../../lib/format";

type DiffEditorInstance = Parameters<DiffOnMount>[0];

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), textarea, select, [tabindex]:not([tabindex="-1"])';

/** Tab on the dialog's last focusable element goes to its first, Shift+Tab on the first to the last. */
function wrapTab(event: ReactKeyboardEvent<HTMLDialogElement>): void {
  if (event.key !== "Tab") return;
  const inside = [...event.currentTarget.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (!first || !last) return;
  const active = document.activeElement;
  if (event.shiftKey ? active === first || !event.currentTarget.contains(active) : active === last) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
}

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
  const dialogRef = useRef<HTMLDialogElement>(null);
  /** What had focus when the diff was widened: it gets focus back when the diff narrows. */
  const openerRef = useRef<HTMLElement | null>(null);
  const widen = (opener: HTMLElement) => {
    openerRef.current = opener;
    setWide(true);
  };
  const chosen = selected ?? versions.data?.[1]?.version ?? versions.data?.[0]?.version;
  const old = useQuery({ ...versionQuery(api, app, name, chosen ?? 0), enabled: chosen !== undefined });
  const restore = useRestoreVersion(app, name);
  const shown = old.data !== undefined;
  useLayoutEffect(() => {
    // Rendered once the version's source has loaded.
    const dialog = shown ? dialogRef.current : null;
    if (!dialog) return;
    if (wide) {
      if (dialog.matches(":modal")) return;
      if (dialog.open) dialog.close();
      dialog.showModal();
      return;
    }
    if (dialog.matches(":modal")) {
      dialog.close();
      openerRef.current?.focus();
      openerRef.current = null;
    }
    // In the panel: open, but not modal, and without taking focus (show() would move it).
    if (!dialog.open) dialog.setAttribute("open", "");
  }, [wide, shown]);
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
            onClick={(event) => {
              setSelected(v.version);
              widen(event.currentTarget);
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
        <dialog
          ref={dialogRef}
          className="card-body stack diff-dialog"
          aria-modal={wide}
          aria-labelledby="diff-title"
          data-testid={wide ? "diff-wide" : "diff-narrow"}
          onKeyDown={wide ? wrapTab : undefined}
          onCancel={(event) => {
            // Escape: back to the panel (not closed), focus back where it was.
            event.preventDefault();
            setWide(false);
          }}
          onClose={(event) => {
            // Closed by the browser anyway (a repeated Escape may not be cancellable): back to the panel too.
            if (!event.currentTarget.open) setWide(false);
          }}
        >
          <div className="row nowrap">
            <div className="muted small grow" id="diff-title">
              v{old.data.version} (red{wide ? ", left" : ""}) against the editor (green{wide ? ", right" : ""})
            </div>
            <button
              type="button"
              className="btn small"
              onClick={(event) => (wide ? setWide(false) : widen(event.currentTarget))}
              data-testid="diff-toggle-wide"
            >
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
                // Tab moves focus on (a read-only diff has nothing to indent): the dialog's Tab order works.
                tabFocusMode: true,
                renderSideBySide: wide,
                // The panel is narrow: long lines wrap instead of running out of it, and the
                // overview ruler and folding give their width to the code.
                diffWordWrap: wide ? "off" : "on",
                wordWrap: wide ? "off" : "on",
                renderOverviewRuler: wide,
                folding: wide,
                lineNumbersMinChars: wide ? 5 : 2,
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
        </dialog>
      )}
    </div>
  );
}
