// Invocation statistics over time for the charts: per-minute counts, errors and p50/p99 latency,
// per app or per script, from the aggregates every run is counted in (sampled-out runs included).
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { buildSeries } from "../../orchestrator/stats-series.js";
import type { ApiServices } from "../services.js";
import { Nullable } from "./schemas.js";

const PointSchema = Type.Object({
  t: Type.Number(),
  count: Type.Integer(),
  errors: Type.Integer(),
  p50Ms: Nullable(Type.Number()),
  p99Ms: Nullable(Type.Number()),
  cpuMs: Type.Number(),
});

export const StatsSeriesSchema = Type.Object({
  app: Type.String(),
  script: Nullable(Type.String()),
  count: Type.Integer(),
  errors: Type.Integer(),
  errorsByCode: Type.Record(Type.String(), Type.Integer()),
  p50Ms: Nullable(Type.Number()),
  p99Ms: Nullable(Type.Number()),
  points: Type.Array(PointSchema),
});

export async function statsRoutes(scope: FastifyInstance, services: Pick<ApiServices, "invocationStats" | "recorder">): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    "/stats",
    {
      schema: {
        tags: ["invocations"],
        summary: "Invocations, errors and p50/p99 latency per minute, per app (by=app) or per script (by=script)",
        querystring: Type.Object({
          app: Type.Optional(Type.String()),
          script: Type.Optional(Type.String()),
          minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 60 })),
          by: Type.Optional(Type.Union([Type.Literal("app"), Type.Literal("script")])),
        }),
        response: {
          200: Type.Object({ from: Type.Number(), to: Type.Number(), stepMs: Type.Integer(), series: Type.Array(StatsSeriesSchema) }),
        },
      },
    },
    async (request) => {
      // Aggregates are written in batches: make the newest visible before reading.
      await services.recorder.flush();
      const q = request.query;
      const now = Date.now();
      const to = now - (now % 60_000) + 60_000;
      const from = to - (q.minutes ?? 60) * 60_000;
      const rows = await services.invocationStats.list({ app: q.app, script: q.script, from, to });
      return { from, to, stepMs: 60_000, series: buildSeries(rows, { from, to }, q.by ?? (q.script ? "script" : "app")) };
    },
  );
}
