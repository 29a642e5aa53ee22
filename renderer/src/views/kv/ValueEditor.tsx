// One KV value as JSON: validated while typing, saved with Ctrl+S or the button, deleted after a confirmation.
import { useState } from "react";
import { useDeleteKey, usePutValue } from "../../api/mutations";
import { ErrorNotice, MiddleText } from "../../components/ui";
import { parseJsonInput, pretty } from "../../lib/json";

export function ValueEditor(props: {
  app: string;
  collection: string;
  entry: { key: string; value: unknown } | undefined;
  /** Opened right after this value was saved. */
  justSaved?: boolean;
  onSaved: (key: string) => void;
  onDeleted: () => void;
}) {
  const [key, setKey] = useState(props.entry?.key ?? "");
  const [text, setText] = useState(props.entry ? pretty(props.entry.value) : "{\n  \n}");
  const [savedText, setSavedText] = useState<string | undefined>(() => (props.justSaved ? text : undefined));
  const parsed = parseJsonInput(text);
  const put = usePutValue(props.app, props.collection);
  const remove = useDeleteKey(props.app, props.collection);
  const save = () => {
    if (!parsed.ok || !key || put.isPending) return;
    put.mutate(
      { key, value: parsed.value },
      {
        onSuccess: () => {
          setSavedText(text);
          props.onSaved(key);
        },
      },
    );
  };
  return (
    <div className="card fill" data-testid="kv-value">
      <div className="card-head">
        {props.entry ? <MiddleText className="mono" text={props.entry.key} testId="kv-value-title" /> : "New key"}
      </div>
      <div className="card-body stack grow-y">
        {!props.entry && (
          <label className="field">
            Key
            <input className="input mono" value={key} onChange={(e) => setKey(e.target.value)} data-testid="kv-key-input" />
          </label>
        )}
        <label className="field grow-y">
          Value (JSON)
          <textarea
            className="input mono value-text"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if ((e.ctrlKey || e.metaKey) && e.key === "s") {
                e.preventDefault();
                save();
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
        <ErrorNotice error={put.error ?? remove.error} />
        <div className="row">
          <button type="button" className="btn primary" disabled={!parsed.ok || !key || put.isPending} onClick={save} data-testid="kv-save">
            Save
          </button>
          {props.entry && (
            <button
              type="button"
              className="btn danger"
              onClick={() => {
                if (confirm(`Delete key '${key}'?`)) remove.mutate(key, { onSuccess: props.onDeleted });
              }}
              data-testid="kv-delete"
            >
              Delete
            </button>
          )}
          {savedText !== undefined && savedText === text && (
            <span className="ok-text small" role="status" data-testid="kv-saved">
              Saved
            </span>
          )}
        </div>
      </div>
    </div>
  );
}
