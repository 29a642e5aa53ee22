// GET /nodes: cluster membership with each process's status and load (from its heartbeats).
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { ApiServices } from "../services.js";
import { Nullable } from "./schemas.js";

const NodeLoadSchema = Type.Object({
  requests: Type.Integer({ description: "Invocations in the last minute" }),
  errors: Type.Integer({ description: "Failed invocations in the last minute" }),
  p50Ms: Nullable(Type.Number()),
  p99Ms: Nullable(Type.Number()),
  inFlight: Type.Integer({ description: "Invocations running now" }),
  eventsClaimed: Type.Integer({ description: "Events claimed since the node started" }),
  rssBytes: Type.Integer(),
});

export const NodeSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  url: Type.String(),
  role: Type.Union([Type.Literal("node"), Type.Literal("manager"), Type.Literal("serve")]),
  version: Type.String(),
  status: Type.Union([Type.Literal("up"), Type.Literal("draining"), Type.Literal("down")]),
  startedAt: Type.String(),
  lastSeenAt: Type.String(),
  load: Nullable(NodeLoadSchema),
});

export async function nodeRoutes(scope: FastifyInstance, services: Pick<ApiServices, "nodes">): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    "/nodes",
    {
      schema: {
        tags: ["nodes"],
        summary: "Every process of the cluster: status (up, draining, down after three missed heartbeats) and load",
        response: { 200: Type.Object({ nodes: Type.Array(NodeSchema) }) },
      },
    },
    async () => ({ nodes: await services.nodes.list() }),
  );
}
