// Small shared pieces: loading, empty and error states, copy button, status pills.
import { useState, type ReactNode } from "react";
import { ApiError } from "../api/client";

export function Spinner({ label }: { label?: string }) {
  return (
    <span className="row muted small" role="status">
      <span className="spinner" /> {label ?? "Loading…"}
    </span>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/** Whether the server answered that the thing asked for does not exist. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

/** A page for something that does not exist (an app, an invocation): the message and a way back. */
export function NotFound({ children, back, backLabel }: { children: ReactNode; back: string; backLabel: string }) {
  return (
    <div className="page" data-testid="not-found">
      <div className="card">
        <div className="empty stack">
          <span>{children}</span>
          <a href={back}>{backLabel}</a>
        </div>
      </div>
    </div>
  );
}

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div className="notice error" role="alert">
      {title && <strong>{title}: </strong>}
      {errorText(error)}
    </div>
  );
}

/** How many characters of a long text's end stay visible after the ellipsis (MiddleText). */
const TAIL = 12;

/**
 * One line of text that, when too long, is cut in the middle ("order-2026-…-a17f"), so texts that
 * differ only at the end stay distinguishable; the whole text is the tooltip. Inline blocks, not
 * flex items: the element's innerText stays the text itself.
 */
export function MiddleText({ text, className, testId }: { text: string; className?: string; testId?: string }) {
  const long = text.length > TAIL * 2;
  return (
    <span className={`middle-text ${className ?? ""}`} title={text} data-testid={testId}>
      {long ? (
        <>
          <span className="middle-head">{text.slice(0, -TAIL)}</span>
          <span className="middle-tail">{text.slice(-TAIL)}</span>
        </>
      ) : (
        text
      )}
    </span>
  );
}

export function Pill({ value, kind }: { value: string; kind?: string }) {
  return <span className={`pill ${kind ?? value}`}>{value}</span>;
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn small"
      onClick={async () => {
        await navigator.clipboard?.writeText(text).catch(() => {});
        setCopied(true);
        setTimeout(() => setCopied(false), 1200);
      }}
    >
      {copied ? "Copied" : label}
    </button>
  );
}

export function Json({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre className="json" data-testid={testId}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function LogLines({ logs, testId }: { logs: readonly { level: string; message: string; at: number }[]; testId?: string }) {
  return (
    <div className="logs" data-testid={testId}>
      {logs.length === 0 && <span className="at">no output</span>}
      {logs.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: log lines have no identity
        <div key={i} className={line.level}>
          <span className="at">+{line.at}ms</span>
          {line.message}
        </div>
      ))}
    </div>
  );
}

/** The admin-token input used wherever a runtime is connected to. */
export function TokenField({ value, onChange, testId }: { value: string; onChange: (value: string) => void; testId: string }) {
  return (
    <label className="field">
      Admin token
      <input
        className="input mono"
        type="password"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder="pc_…"
        data-testid={testId}
      />
    </label>
  );
}

/** A two-column label/value table for detail panes. */
export function DetailTable({ rows }: { rows: readonly ({ label: string; value: ReactNode } | null)[] }) {
  return (
    <table className="kv-table">
      <tbody>
        {rows.map((row) =>
          row ? (
            <tr key={row.label}>
              <td>{row.label}</td>
              <td>{row.value}</td>
            </tr>
          ) : null,
        )}
      </tbody>
    </table>
  );
}
