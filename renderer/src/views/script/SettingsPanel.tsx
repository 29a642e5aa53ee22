// The script's own settings over its app's: strict mode and per-run limits, each shown with the
// value the script runs with and where it comes from (server default, app or script).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useUpdateScriptSettings } from "../../api/mutations";
import { scriptSettingsQuery } from "../../api/queries";
import type { ScriptSettingsView, SettingSource } from "../../api/types";
import { SaveRow } from "../../components/forms";
import { ErrorNotice, Spinner } from "../../components/ui";
import { useApi } from "../../connections/context";
import { href } from "../../router";
import { APP_WIDE_LIMIT_FIELDS, type LimitName, SCRIPT_LIMIT_FIELDS, limitErrors } from "../../lib/limits";

const SOURCE_LABEL: Record<SettingSource, string> = { server: "default", app: "app", script: "script" };

function Source({ source, testId }: { source: SettingSource; testId?: string }) {
  return (
    <span className={`pill source-${source}`} data-testid={testId} data-source={source}>
      {SOURCE_LABEL[source]}
    </span>
  );
}

export function SettingsPanel({ app, name }: { app: string; name: string }) {
  const view = useQuery(scriptSettingsQuery(useApi(), app, name));
  // Kept here: a save changes the stored settings, which remounts the form.
  const [saved, setSaved] = useState(false);
  return (
    <div className="card" data-testid="script-settings" data-ready={view.data ? "true" : "false"}>
      <div className="card-head">Settings</div>
      {view.isLoading && (
        <div className="card-body">
          <Spinner />
        </div>
      )}
      <ErrorNotice error={view.error} />
      {/* Remounted when the stored settings change (here or elsewhere), so the form starts from them. */}
      {view.data && (
        <SettingsForm key={JSON.stringify(view.data.settings)} app={app} name={name} view={view.data} saved={saved} onSaved={setSaved} />
      )}
    </div>
  );
}

type StrictChoice = "inherit" | "on" | "off";

function SettingsForm({
  app,
  name,
  view,
  saved,
  onSaved,
}: {
  app: string;
  name: string;
  view: ScriptSettingsView;
  saved: boolean;
  onSaved: (saved: boolean) => void;
}) {
  const update = useUpdateScriptSettings(app, name);
  const own = view.settings;
  const [strict, setStrict] = useState<StrictChoice>(own.strict === undefined ? "inherit" : own.strict ? "on" : "off");
  const [values, setValues] = useState<Partial<Record<LimitName, string>>>(() =>
    Object.fromEntries(SCRIPT_LIMIT_FIELDS.map((f) => [f.name, own.limits?.[f.name as keyof typeof own.limits]?.toString() ?? ""])),
  );
  const errors = limitErrors(values);
  const save = () => {
    const limits = Object.fromEntries(
      SCRIPT_LIMIT_FIELDS.filter((f) => (values[f.name] ?? "").trim() !== "").map((f) => [f.name, Number(values[f.name])]),
    );
    onSaved(false);
    update.mutate(
      { ...(strict !== "inherit" && { strict: strict === "on" }), ...(Object.keys(limits).length > 0 && { limits }) },
      { onSuccess: () => onSaved(true) },
    );
  };
  const { effective } = view;
  return (
    <form
      className="card-body stack"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <p className="muted small flush">
        Empty fields inherit: server defaults, then the{" "}
        <a href={href({ page: "app", app, tab: "settings" })} data-testid="app-settings-link">
          app's settings
        </a>
        , then these. Changes apply to the next run on every node.
      </p>
      <label className="field">
        <span className="row nowrap space-between">
          Strict mode (a fresh sandbox for every run)
          <Source source={effective.strict.source} testId="source-strict" />
        </span>
        <select className="select" value={strict} onChange={(e) => setStrict(e.target.value as StrictChoice)} data-testid="script-strict">
          <option value="inherit">
            Inherit ({effective.strict.source === "script" ? "app's or default" : effective.strict.value ? "on" : "off"})
          </option>
          <option value="on">On</option>
          <option value="off">Off</option>
        </select>
      </label>
      <table className="simple settings-table" data-testid="script-limits">
        <thead>
          <tr>
            <th>Limit</th>
            <th>Own value</th>
            <th className="right">Runs with</th>
          </tr>
        </thead>
        <tbody>
          {SCRIPT_LIMIT_FIELDS.map((field) => {
            const current = effective.limits[field.name];
            const error = errors[field.name];
            return (
              <tr key={field.name} data-testid={`script-limit-row-${field.name}`}>
                <td>
                  <label htmlFor={`script-limit-${field.name}`}>{field.label}</label>
                  {error && <span className="hint error-text block">{error}</span>}
                </td>
                <td>
                  <input
                    id={`script-limit-${field.name}`}
                    className={`input compact ${error ? "invalid" : ""}`}
                    inputMode="numeric"
                    placeholder="inherit"
                    title={`${field.min}–${field.max} ${field.unit}`}
                    value={values[field.name] ?? ""}
                    onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                    aria-invalid={Boolean(error)}
                    data-testid={`script-limit-${field.name}`}
                  />
                </td>
                <td className="right nowrap-cell">
                  <span className="mono" data-testid={`effective-${field.name}`}>
                    {current.value}
                  </span>{" "}
                  <Source source={current.source} testId={`source-${field.name}`} />
                </td>
              </tr>
            );
          })}
          {APP_WIDE_LIMIT_FIELDS.map((field) => {
            const current = effective.limits[field.name];
            return (
              <tr key={field.name} className="muted">
                <td>{field.label}</td>
                <td className="small">per app</td>
                <td className="right nowrap-cell">
                  <span className="mono">{current.value}</span> <Source source={current.source} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ErrorNotice error={update.error} />
      <SaveRow pending={update.isPending} invalid={Object.keys(errors).length > 0} saved={saved} testId="script-settings" sticky>
        Saved.
      </SaveRow>
    </form>
  );
}
