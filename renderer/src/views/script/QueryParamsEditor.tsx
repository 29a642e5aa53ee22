// Key/value rows for a test run's query parameters.
import type { QueryParam } from "../../lib/query-string";

export function QueryParamsEditor({ params, onChange }: { params: readonly QueryParam[]; onChange: (params: QueryParam[]) => void }) {
  const set = (index: number, change: Partial<QueryParam>) => onChange(params.map((p, i) => (i === index ? { ...p, ...change } : p)));
  return (
    <fieldset className="params" data-testid="test-query">
      <legend className="small muted">Query parameters</legend>
      {params.map((param, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place and have no identity
        <div key={index} className="row nowrap">
          <input
            className="input mono grow"
            placeholder="name"
            aria-label={`Query parameter ${index + 1} name`}
            value={param.key}
            onChange={(e) => set(index, { key: e.target.value })}
            data-testid="query-key"
          />
          <input
            className="input mono grow"
            placeholder="value"
            aria-label={`Query parameter ${index + 1} value`}
            value={param.value}
            onChange={(e) => set(index, { value: e.target.value })}
            data-testid="query-value"
          />
          <button
            type="button"
            className="btn small ghost"
            aria-label={`Remove query parameter ${param.key || index + 1}`}
            onClick={() => onChange(params.filter((_, i) => i !== index))}
          >
            ✕
          </button>
        </div>
      ))}
      <button type="button" className="btn small" onClick={() => onChange([...params, { key: "", value: "" }])} data-testid="query-add">
        Add parameter
      </button>
    </fieldset>
  );
}
