// Cluster membership rows. Times come from the database's clock (`now()`), so skew between
// machines cannot make a live node look down or a dead one up.
import type { Queryable } from "./db.js";

export type NodeStatus = "up" | "draining" | "down";
export type NodeRoleName = "node" | "manager" | "serve";

/** A node's load over the last minute, as its heartbeat reports it. */
export interface NodeLoad {
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly inFlight: number;
  readonly eventsClaimed: number;
  readonly rssBytes: number;
}

export interface NodeInfo {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly role: NodeRoleName;
  readonly version: string;
  readonly status: NodeStatus;
  readonly startedAt: string;
  readonly lastSeenAt: string;
  readonly load: NodeLoad | null;
}

/** A live process's row, as KV ownership weighs it (kv-ownership.ts). */
export interface LiveNode {
  readonly id: string;
  /** Its last heartbeat, as the database prints it: changed means it beat again. */
  readonly lastSeen: string;
  /** How long until it counts as down, unless it beats again. */
  readonly expiresInMs: number;
}

/** The live row that holds a node name, as a process registering that name weighs it (core/membership.ts). */
export interface NameHolder extends LiveNode {
  /** The process that registered it: core/process-identity.ts's recordedHost and its pid ('' and 0 for rows from before migration 14). */
  readonly host: string;
  readonly pid: number;
  /** How often it beats. */
  readonly heartbeatMs: number;
}

/** Missed heartbeats after which a node counts as down. */
export const MISSED_HEARTBEATS_DOWN = 3;

type NodeRow = {
  id: string;
  name: string;
  url: string;
  role: NodeRoleName;
  version: string;
  status: string;
  started_at: Date | string;
  last_seen_at: Date | string;
  load: NodeLoad | Record<string, never>;
  stale: boolean;
};

const iso = (value: Date | string) => new Date(value).toISOString();

export class NodeStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Registers this process; a row with the same name that is down (missed its heartbeats), or is the
   * row `takeOver` names (a dead predecessor's), is taken over. Returns the database's clock at
   * registration, in ms, or undefined when a live row holds the name (see `holder`).
   */
  async register(
    node: { id: string; name: string; url: string; role: NodeRoleName; version: string; heartbeatMs: number; host: string; pid: number },
    takeOver?: string,
  ): Promise<number | undefined> {
    const rows = await this.db.query<{ now: Date }>(
      `insert into nodes (id, name, url, role, version, status, heartbeat_ms, host, pid)
       values ($1, $2, $3, $4, $5, 'up', $6, $8, $9)
       on conflict (name) do update set id = excluded.id, url = excluded.url, role = excluded.role,
         version = excluded.version, status = 'up', heartbeat_ms = excluded.heartbeat_ms,
         host = excluded.host, pid = excluded.pid,
         started_at = now(), last_seen_at = now(), load = '{}'::jsonb
       where nodes.id = excluded.id or nodes.id = $10 or nodes.status in ('left', 'down')
          or nodes.last_seen_at < now() - make_interval(secs => nodes.heartbeat_ms * $7 / 1000.0)
       returning now() as now`,
      [
        node.id,
        node.name,
        node.url,
        node.role,
        node.version,
        node.heartbeatMs,
        MISSED_HEARTBEATS_DOWN,
        node.host,
        node.pid,
        takeOver ?? null,
      ],
    );
    const now = rows[0]?.now;
    return now ? new Date(now).getTime() : undefined;
  }

  /** Refreshes last_seen_at (and status); returns the database's clock in ms, or undefined when the row is gone. */
  async heartbeat(id: string, status: "up" | "draining", load: NodeLoad): Promise<number | undefined> {
    const rows = await this.db.query<{ now: Date }>(
      "update nodes set last_seen_at = now(), status = $2, load = $3 where id = $1 returning now() as now",
      [id, status, JSON.stringify(load)],
    );
    return rows[0] ? new Date(rows[0].now).getTime() : undefined;
  }

  async deregister(id: string): Promise<void> {
    await this.db.query("delete from nodes where id = $1", [id]);
  }

  async list(): Promise<NodeInfo[]> {
    const rows = await this.db.query<NodeRow>(
      `select id, name, url, role, version, status, started_at, last_seen_at, load,
         last_seen_at < now() - make_interval(secs => heartbeat_ms * $1 / 1000.0) as stale
       from nodes order by name`,
      [MISSED_HEARTBEATS_DOWN],
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      url: row.url,
      role: row.role,
      version: row.version,
      status: row.stale || row.status === "down" ? "down" : row.status === "draining" ? "draining" : "up",
      startedAt: iso(row.started_at),
      lastSeenAt: iso(row.last_seen_at),
      load: "requests" in row.load ? (row.load as NodeLoad) : null,
    }));
  }

  /**
   * The processes other than `selfId` that are registered and live (heartbeating, as `list` judges it),
   * each with its last heartbeat (as text: compared, not read) and how long until it counts as down
   * unless it beats again. None before the nodes table exists (a database being created).
   */
  async othersLive(selfId: string): Promise<LiveNode[]> {
    const table = await this.db.query<{ t: string | null }>("select to_regclass('nodes')::text as t");
    if (!table[0]?.t) return [];
    return this.live("id <> $2", selfId);
  }

  /** The live process registered under `name` (not `selfId`), if any: who holds a name `register` refused. */
  async liveNamed(name: string, selfId: string): Promise<NameHolder | undefined> {
    const rows = await this.db.query<{ id: string; host: string; pid: number; seen: string; heartbeat_ms: number; expires_in_ms: number }>(
      `select id, host, pid, last_seen_at::text as seen, heartbeat_ms,
         ceil(extract(epoch from last_seen_at + make_interval(secs => heartbeat_ms * $1 / 1000.0) - now()) * 1000)::float8 as expires_in_ms
       from nodes where name = $2 and id <> $3 and status not in ('left', 'down')
         and last_seen_at >= now() - make_interval(secs => heartbeat_ms * $1 / 1000.0)`,
      [MISSED_HEARTBEATS_DOWN, name, selfId],
    );
    const row = rows[0];
    return (
      row && {
        id: row.id,
        host: row.host,
        pid: Number(row.pid),
        lastSeen: row.seen,
        heartbeatMs: Number(row.heartbeat_ms),
        expiresInMs: Math.max(0, Number(row.expires_in_ms)),
      }
    );
  }

  /** Every other row that still looks live (not marked down, not expired), with the process that registered it. */
  async othersLooksLive(selfId: string): Promise<{ id: string; name: string; host: string; pid: number }[]> {
    const rows = await this.db.query<{ id: string; name: string; host: string; pid: number }>(
      `select id, name, host, pid from nodes where id <> $2 and status not in ('left', 'down')
         and last_seen_at >= now() - make_interval(secs => heartbeat_ms * $1 / 1000.0)`,
      [MISSED_HEARTBEATS_DOWN, selfId],
    );
    return rows.map((row) => ({ id: row.id, name: row.name, host: row.host, pid: Number(row.pid) }));
  }

  /**
   * Marks rows down at once (a crashed process's, proven dead): listed as down, taken over by name, no
   * longer live to KV ownership. A process wrongly marked sets its status back with its next heartbeat.
   */
  async markDown(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query("update nodes set status = 'down' where id = any($1::text[])", [ids]);
  }

  private async live(where: string, ...params: string[]): Promise<LiveNode[]> {
    const rows = await this.db.query<{ id: string; seen: string; expires_in_ms: number }>(
      `select id, last_seen_at::text as seen,
         ceil(extract(epoch from last_seen_at + make_interval(secs => heartbeat_ms * $1 / 1000.0) - now()) * 1000)::float8 as expires_in_ms
       from nodes where ${where} and status not in ('left', 'down')
         and last_seen_at >= now() - make_interval(secs => heartbeat_ms * $1 / 1000.0)`,
      [MISSED_HEARTBEATS_DOWN, ...params],
    );
    return rows.map((row) => ({ id: row.id, lastSeen: row.seen, expiresInMs: Math.max(0, row.expires_in_ms) }));
  }

  /** Forgets nodes that have been down for longer than `maxAgeMs`. */
  async pruneDown(maxAgeMs: number): Promise<number> {
    const rows = await this.db.query("delete from nodes where last_seen_at < now() - make_interval(secs => $1 / 1000.0) returning id", [
      maxAgeMs,
    ]);
    return rows.length;
  }
}
