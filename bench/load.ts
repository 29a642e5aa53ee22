// Load generation shared by the benchmarks: autocannon after a warm-up, reported as one table row.
import autocannon from "autocannon";
import { cpuUs } from "./process.js";

export const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
export const CONNECTIONS = 50;

export interface Row {
  case: string;
  reqPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  note?: string;
  /** CPU time the server process (all its threads) spent per answered request, µs, when its pid was given: robust to a loaded machine. */
  cpuUsPerReq?: number;
}

export async function load(
  url: string,
  label: string,
  options: {
    duration?: number;
    warmup?: boolean;
    /** Requests per second in all, instead of as many as the server answers. */
    rate?: number;
    /** The server's pid: the row then says how much CPU it spent per answered request. */
    pid?: number;
  } = {},
): Promise<Row> {
  // Warm up first (JIT, warm sandboxes, connection pools): the table reports steady state.
  if (options.warmup !== false) await autocannon({ url, connections: CONNECTIONS, duration: 1 });
  const cpuBefore = options.pid === undefined ? 0 : cpuUs(options.pid);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: options.duration ?? DURATION_S,
    pipelining: 1,
    ...(options.rate !== undefined && { overallRate: options.rate }),
  });
  const cpu = options.pid === undefined ? undefined : cpuUs(options.pid) - cpuBefore;
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    case: label,
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ...(errors > 0 && { note: `${errors} errors/non-2xx` }),
    ...(cpu !== undefined && { cpuUsPerReq: Math.round((cpu / Math.max(1, result.requests.total)) * 10) / 10 }),
  };
}
