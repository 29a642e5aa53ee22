import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { PiCloudError } from "../../shared/errors.js";
import type { ApiServices } from "../services.js";
import { AppId, IdParams, InvocationErrorSchema, LogLineSchema, RecordId, ScriptName } from "./schemas.js";

const Trigger = Type.Union(["http", "kv", "schedule", "dead_letter", "test"].map((t) => Type.Literal(t)));
const Status = Type.Union([Type.Literal("ok"), Type.Literal("error")]);

export const InvocationSchema = Type.Object({
  id: Type.String(),
  app: Type.String(),
  script: Type.String(),
  version: Type.Union([Type.Integer(), Type.Null()]),
  trigger: Type.String(),
  status: Status,
  startedAt: Type.String(),
  durationMs: Type.Number(),
  logs: Type.Array(LogLineSchema),
  error: Type.Union([InvocationErrorSchema, Type.Null()]),
  eventId: Type.Union([Type.String(), Type.Null()]),
});

export async function invocationRoutes(scope: FastifyInstance, services: Pick<ApiServices, "invocations" | "recorder">): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    "/invocations",
    {
      schema: {
        tags: ["invocations"],
        summary: "Recent invocations, newest first; page with ?before=<last id>",
        querystring: Type.Object({
          app: Type.Optional(AppId),
          script: Type.Optional(ScriptName),
          status: Type.Optional(Status),
          trigger: Type.Optional(Trigger),
          before: Type.Optional(RecordId),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Text in the console output or the error" })),
        }),
        response: { 200: Type.Object({ invocations: Type.Array(InvocationSchema) }) },
      },
    },
    async (request) => {
      // Records are written in batches: make the newest visible before reading.
      await services.recorder.flush();
      const q = request.query;
      return {
        invocations: await services.invocations.list({
          app: q.app,
          script: q.script,
          status: q.status,
          trigger: q.trigger as never,
          before: q.before,
          limit: q.limit,
          text: q.q,
        }),
      };
    },
  );

  api.get(
    "/invocations/:id",
    { schema: { tags: ["invocations"], params: IdParams, response: { 200: InvocationSchema } } },
    async (request) => {
      await services.recorder.flush();
      const record = await services.invocations.get(request.params.id);
      if (!record) throw new PiCloudError("NOT_FOUND", `No invocation '${request.params.id}'.`);
      return record;
    },
  );
}
