// Pieces the settings cards share: a named list with its time column, a delete that asks first,
// and the save row with its "Saved" status.
import type { ReactNode } from "react";
import { formatDateTime } from "../lib/format";
import { Empty, Spinner } from "./ui";

/** A small button that runs `onConfirm` only after the user agreed to `question`. */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  disabled,
  ariaLabel,
  title,
}: {
  label: string;
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  ariaLabel: string;
  /** Shown on hover: e.g. why the button is disabled. */
  title?: string;
}) {
  return (
    <button
      type="button"
      className="btn small danger"
      disabled={disabled}
      title={title}
      onClick={() => {
        if (confirm(question)) onConfirm();
      }}
      aria-label={ariaLabel}
    >
      {label}
    </button>
  );
}

export interface NamedRow {
  readonly name: string;
  readonly at: string;
  readonly actions: ReactNode;
}

/** Loading, empty, or a table of names (monospace) with a time and row actions. */
export function NamedList({
  rows,
  loading,
  empty,
  nameHeader,
  timeHeader,
  testId,
  rowTestId,
}: {
  rows: readonly NamedRow[] | undefined;
  loading: boolean;
  empty: string;
  nameHeader: string;
  timeHeader: string;
  testId: string;
  rowTestId: (name: string) => string;
}) {
  if (loading)
    return (
      <div className="card-body">
        <Spinner />
      </div>
    );
  if (!rows) return null;
  if (rows.length === 0) return <Empty>{empty}</Empty>;
  return (
    <table className="simple" data-testid={testId}>
      <thead>
        <tr>
          <th>{nameHeader}</th>
          <th>{timeHeader}</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.name} data-testid={rowTestId(row.name)}>
            <td className="mono break">{row.name}</td>
            <td className="muted nowrap-cell">{formatDateTime(row.at)}</td>
            <td className="right nowrap-cell">{row.actions}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The submit button of a settings form, disabled while saving or invalid, and what a save said. */
export function SaveRow({
  pending,
  invalid,
  saved,
  testId,
  sticky,
  children,
}: {
  pending: boolean;
  invalid: boolean;
  saved: boolean;
  testId: string;
  /** Kept in view at the bottom of a scrolling panel (a form taller than the window). */
  sticky?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={sticky ? "row sticky-actions" : "row"}>
      <button type="submit" className="btn primary" disabled={pending || invalid} data-testid={`${testId}-save`}>
        Save settings
      </button>
      {saved && (
        <span className="ok-text small" role="status" data-testid={`${testId}-saved`}>
          {children}
        </span>
      )}
    </div>
  );
}
