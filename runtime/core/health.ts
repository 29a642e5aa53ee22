// GET /healthz (the process is alive) and GET /readyz (it should get traffic: database reachable,
// LISTEN connection up, schema in order, not draining). Both public and data-free, for Caddy,
// systemd and orchestrators.
import type { FastifyInstance } from "fastify";
import type { Db } from "../store/db.js";

/** Readiness inputs a process changes over its life. */
export interface Lifecycle {
  draining: boolean;
}

const PROBE_TIMEOUT_MS = 2_000;

export async function readiness(db: Db, lifecycle: Lifecycle): Promise<{ ready: boolean; reason?: string }> {
  if (lifecycle.draining) return { ready: false, reason: "draining" };
  const health = db.health();
  if (!health.listening) return { ready: false, reason: `change notifications are down${health.error ? `: ${health.error}` : ""}` };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.query("select 1"),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), PROBE_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    return { ready: false, reason: `database unreachable: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
  return { ready: true };
}

export function healthRoutes(db: Db, lifecycle: Lifecycle) {
  return {
    async registerHttp(app: FastifyInstance): Promise<void> {
      app.get("/healthz", { schema: { hide: true } }, async (_request, reply) =>
        reply.header("cache-control", "no-store").send({ alive: true }),
      );
      app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
        const state = await readiness(db, lifecycle);
        return reply
          .code(state.ready ? 200 : 503)
          .header("cache-control", "no-store")
          .send(state);
      });
    },
  };
}
