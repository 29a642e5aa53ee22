// The cluster's processes (GET /nodes): status dot, name, role, version, uptime, last heartbeat and
// the last minute's load, refreshed every few seconds; a banner when a node went down recently.
import { useQuery } from "@tanstack/react-query";
import type { NodeInfo } from "../../api/client";
import { Empty, ErrorNotice, Spinner } from "../../components/ui";
import { useApi, useConnection } from "../../connections/context";
import { formatDateTime } from "../../lib/format";

/** A heartbeat is every 5 s by default: a refresh every 3 s shows changes within one beat. */
const REFRESH_MS = 3_000;
/** A node that went down within this window gets a banner. */
const RECENT_DOWN_MS = 15 * 60_000;

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d`;
}

const formatMb = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;
const formatMs = (ms: number | null) => (ms === null ? "–" : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);

export function NodesView() {
  const api = useApi();
  const { info } = useConnection();
  const nodes = useQuery({ queryKey: [api.id, "nodes"], queryFn: () => api.client.listNodes(), refetchInterval: REFRESH_MS });
  const now = nodes.dataUpdatedAt || Date.now();
  const list = nodes.data ?? [];
  const recentlyDown = list.filter((n) => n.status === "down" && now - Date.parse(n.lastSeenAt) < RECENT_DOWN_MS);
  const counts = { up: 0, draining: 0, down: 0 };
  for (const n of list) counts[n.status]++;
  return (
    <div className="page" data-testid="nodes-view" data-ready={nodes.isSuccess ? "true" : "false"}>
      <div className="page-head">
        <h1>Nodes</h1>
        <span className="muted">
          of {info.name}: {counts.up} up{counts.draining ? `, ${counts.draining} draining` : ""}
          {counts.down ? `, ${counts.down} down` : ""}
        </span>
      </div>
      {recentlyDown.map((n) => (
        <div key={n.id} className="notice error nodes-banner" role="alert" data-testid="node-down-banner">
          <strong>{n.name}</strong> went down {formatAge(now - Date.parse(n.lastSeenAt))} ago (last heartbeat {formatDateTime(n.lastSeenAt)}
          ). Its events are retried by the other nodes once their leases end.
        </div>
      ))}
      <ErrorNotice error={nodes.error} />
      {nodes.isPending && <Spinner label="Loading nodes" />}
      {nodes.isSuccess && list.length === 0 && (
        <Empty>
          No processes have registered yet. A cluster is one <span className="mono">picloud manager</span> and any number of{" "}
          <span className="mono">picloud node</span> processes on one PostgreSQL: see docs/cluster.md.
        </Empty>
      )}
      {list.length > 0 && (
        <div className="card nodes-card">
          <table className="simple nodes-table">
            <thead>
              <tr>
                <th>Node</th>
                <th>Role</th>
                <th>Version</th>
                <th>Uptime</th>
                <th>Last heartbeat</th>
                <th className="num">Req/min</th>
                <th className="num">Errors</th>
                <th className="num">p50</th>
                <th className="num">p99</th>
                <th className="num">In flight</th>
                <th className="num">Events</th>
                <th className="num">Memory</th>
              </tr>
            </thead>
            <tbody>
              {list.map((n) => (
                <NodeRow key={n.id} node={n} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function NodeRow({ node, now }: { node: NodeInfo; now: number }) {
  const load = node.status === "down" ? null : node.load;
  return (
    <tr className={`node-row ${node.status}`} data-testid="node-row" data-status={node.status}>
      <td>
        <div className="row nowrap">
          <span className={`dot ${node.status === "up" ? "up" : node.status === "down" ? "down" : "rejected"}`} aria-hidden="true" />
          <span className="node-name" title={node.url}>
            {node.name}
          </span>
          {node.status !== "up" && <span className={`pill node-${node.status}`}>{node.status}</span>}
        </div>
        <div className="muted mono small">{node.url}</div>
      </td>
      <td className="muted">{node.role}</td>
      <td className="mono">{node.version}</td>
      <td className="muted">{formatAge(now - Date.parse(node.startedAt))}</td>
      <td className="muted" title={formatDateTime(node.lastSeenAt)}>
        {formatAge(now - Date.parse(node.lastSeenAt))} ago
      </td>
      <td className="num">{load ? load.requests : "–"}</td>
      <td className={`num${load && load.errors > 0 ? " error-text" : ""}`}>{load ? load.errors : "–"}</td>
      <td className="num">{load ? formatMs(load.p50Ms) : "–"}</td>
      <td className="num">{load ? formatMs(load.p99Ms) : "–"}</td>
      <td className="num">{load ? load.inFlight : "–"}</td>
      <td className="num">{load ? load.eventsClaimed : "–"}</td>
      <td className="num">{load ? formatMb(load.rssBytes) : "–"}</td>
    </tr>
  );
}
