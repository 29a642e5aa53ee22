// Test-run paths: a query string typed into the path field becomes query parameters.
export interface QueryParam {
  readonly key: string;
  readonly value: string;
}

/** Splits `/orders?id=7&x=1` into the path and its parameters (percent-decoded). */
export function splitPath(input: string): { path: string; params: QueryParam[] } {
  const at = input.indexOf("?");
  if (at < 0) return { path: input || "/", params: [] };
  const params = [...new URLSearchParams(input.slice(at + 1))].map(([key, value]) => ({ key, value }));
  return { path: input.slice(0, at) || "/", params };
}

/** The parameters as the API's `query` object; later duplicates win, empty keys are dropped. */
export function toQueryObject(params: readonly QueryParam[]): Record<string, string> {
  const query: Record<string, string> = {};
  for (const { key, value } of params) if (key.trim()) query[key.trim()] = value;
  return query;
}
