// GET /metrics in the Prometheus text format. Needs the admin token (as a bearer token, which
// Prometheus sends with `authorization.credentials`) unless PICLOUD_METRICS_PUBLIC opens it.
import type { FastifyInstance } from "fastify";
import type { AdminAuth } from "../../core/auth.js";
import type { RuntimeMetrics } from "../metrics.js";

export function registerMetricsRoute(app: FastifyInstance, deps: { metrics: RuntimeMetrics; auth: AdminAuth; public: boolean }): void {
  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    if (!deps.public) await deps.auth.check(request);
    const text = await deps.metrics.text();
    return reply.header("content-type", deps.metrics.contentType()).header("cache-control", "no-store").send(text);
  });
}
