// Load generation shared by the benchmarks: autocannon after a warm-up, reported as one table row.
import autocannon from "autocannon";

export const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
export const CONNECTIONS = 50;

export interface Row {
  case: string;
  reqPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  note?: string;
}

export async function load(
  url: string,
  label: string,
  options: {
    duration?: number;
    warmup?: boolean;
    /** Requests per second in all, instead of as many as the server answers. */
    rate?: number;
  } = {},
): Promise<Row> {
  // Warm up first (JIT, warm sandboxes, connection pools): the table reports steady state.
  if (options.warmup !== false) await autocannon({ url, connections: CONNECTIONS, duration: 1 });
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: options.duration ?? DURATION_S,
    pipelining: 1,
    ...(options.rate !== undefined && { overallRate: options.rate }),
  });
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    case: label,
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ...(errors > 0 && { note: `${errors} errors/non-2xx` }),
  };
}
