// Sandbox mode and per-invocation limits of one app; empty fields use the runtime's defaults.
import { useState } from "react";
import { useUpdateApp } from "../../api/mutations";
import type { App } from "../../api/types";
import { SaveRow } from "../../components/forms";
import { ErrorNotice } from "../../components/ui";
import { LIMIT_FIELDS, type LimitName, limitErrors } from "../../lib/limits";

export function LimitsCard({ app }: { app: App }) {
  const update = useUpdateApp(app.id);
  const [strict, setStrict] = useState(Boolean(app.settings.strict));
  const [values, setValues] = useState<Record<LimitName, string>>(
    () =>
      Object.fromEntries(LIMIT_FIELDS.map((f) => [f.name, app.settings.limits?.[f.name]?.toString() ?? ""])) as Record<LimitName, string>,
  );
  const [saved, setSaved] = useState(false);
  const errors = limitErrors(values);
  const save = () => {
    const limits = Object.fromEntries(
      LIMIT_FIELDS.filter((f) => values[f.name].trim() !== "").map((f) => [f.name, Number(values[f.name])]),
    );
    setSaved(false);
    update.mutate(
      { ...app.settings, strict, limits: Object.keys(limits).length > 0 ? limits : undefined },
      { onSuccess: () => setSaved(true) },
    );
  };
  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
      data-testid="limits-card"
    >
      <div className="card-head">Sandbox and limits</div>
      <div className="card-body stack">
        <label className="check">
          <input type="checkbox" checked={strict} onChange={(e) => setStrict(e.target.checked)} data-testid="strict-mode" />
          <span>
            <strong>Strict mode</strong>
            <span className="muted small block">
              A fresh sandbox for every invocation: no globals survive between calls, at a cost in latency.
            </span>
          </span>
        </label>
        <div className="limits-grid">
          {LIMIT_FIELDS.map((field) => (
            <label key={field.name} className="field">
              {field.label}
              <input
                className={`input ${errors[field.name] ? "invalid" : ""}`}
                inputMode="numeric"
                placeholder={`default ${field.default}`}
                value={values[field.name]}
                onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
                aria-invalid={Boolean(errors[field.name])}
                data-testid={`limit-${field.name}`}
              />
              <span className={`hint ${errors[field.name] ? "error-text" : ""}`}>
                {errors[field.name] ?? `${field.min}–${field.max} ${field.unit}`}
              </span>
            </label>
          ))}
        </div>
        <ErrorNotice error={update.error} />
        <SaveRow pending={update.isPending} invalid={Object.keys(errors).length > 0} saved={saved} testId="limits">
          Saved. New invocations use these settings.
        </SaveRow>
      </div>
    </form>
  );
}
