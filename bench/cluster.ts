// The cluster case: requests/s through Caddy to one node and to two nodes (same run), deploy
// propagation from the manager to every node, and idle CPU of a manager and a node process.
import autocannon from "autocannon";
import { createPostgresDatabase } from "../runtime/testing/databases.js";
import { type Proc, startCaddy, startManager, startNode, stopProc } from "../runtime/testing/cluster.js";
import { idleCpuPercent } from "./events.js";

const TOKEN = "pc_benchmark_token_0123456789";

export interface ClusterFigures {
  readonly rows: { case: string; reqPerSec: number; p50Ms: number | null; p99Ms: number | null; note?: string }[];
  readonly propagationP50Ms: number;
  readonly propagationP99Ms: number;
  readonly idleCpuManager: number;
  readonly idleCpuNode: number;
}

const percentile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;

export async function clusterCase(options: {
  durationS: number;
  connections: number;
  idleS: number;
  deploys: number;
}): Promise<ClusterFigures> {
  const db = await createPostgresDatabase();
  const procs: Proc[] = [];
  try {
    const env = { PICLOUD_ADMIN_TOKEN: TOKEN, PICLOUD_EXECUTOR_WORKERS: "2" };
    const manager = await startManager(db.url, env);
    procs.push(manager);
    const nodes = await Promise.all(["bench-n1", "bench-n2"].map((name) => startNode(db.url, name, env)));
    procs.push(...nodes);
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const call = (method: string, route: string, body?: unknown) =>
      fetch(`${manager.url}/api/v1${route}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    await call("POST", "/apps", { id: "bench" });
    await call("PUT", "/apps/bench/scripts/hello", { source: "export default () => ({ message: 'Hello, world!' })" });

    const rows: ClusterFigures["rows"] = [];
    for (const count of [1, 2]) {
      const caddy = await startCaddy(manager, nodes.slice(0, count));
      procs.push(caddy);
      const url = `${caddy.url}/bench/hello`;
      await autocannon({ url, connections: options.connections, duration: 1 });
      const result = await autocannon({ url, connections: options.connections, duration: options.durationS });
      const errors = result.errors + result.timeouts + result.non2xx;
      rows.push({
        case: `hello through Caddy, ${count} node${count > 1 ? "s" : ""}`,
        reqPerSec: Math.round(result.requests.average),
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        ...(errors > 0 && { note: `${errors} errors/non-2xx` }),
      });
      await stopProc(caddy);
    }

    // Deploy propagation: from the deploy's response to each node serving the new version.
    const delays: number[] = [];
    for (let v = 1; v <= options.deploys; v++) {
      await call("PUT", "/apps/bench/scripts/probe", { source: `export default () => ({ v: ${v} })` });
      const deployed = performance.now();
      await Promise.all(
        nodes.map(async (node) => {
          for (;;) {
            const response = await fetch(`${node.url}/bench/probe`);
            if (response.status === 200 && ((await response.json()) as { v: number }).v === v) break;
            await new Promise((r) => setTimeout(r, 2));
          }
          delays.push(performance.now() - deployed);
        }),
      );
    }
    const [idleCpuManager, idleCpuNode] = await Promise.all([
      idleCpuPercent(manager.child.pid as number, options.idleS),
      idleCpuPercent((nodes[0] as Proc).child.pid as number, options.idleS),
    ]);
    return {
      rows,
      propagationP50Ms: Math.round(percentile(delays, 0.5) * 10) / 10,
      propagationP99Ms: Math.round(percentile(delays, 0.99) * 10) / 10,
      idleCpuManager,
      idleCpuNode,
    };
  } finally {
    await Promise.all(procs.map((p) => stopProc(p, "SIGKILL")));
    await db.drop();
  }
}
