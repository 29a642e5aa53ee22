import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { PiCloudError } from "../../shared/errors.js";
import type { ApiServices } from "../services.js";
import { AppId, IdParams, InvocationErrorSchema, LogLineSchema, RecordId, ScriptName, StringEnum } from "./schemas.js";

const TRIGGER_KINDS = ["http", "kv", "schedule", "dead_letter", "test"] as const;
const Trigger = Type.Union(TRIGGER_KINDS.map((t) => Type.Literal(t)));
const Status = Type.Union([Type.Literal("ok"), Type.Literal("error")]);

export const InvocationSchema = Type.Object({
  id: Type.String(),
  app: Type.String(),
  script: Type.String(),
  version: Type.Union([Type.Integer(), Type.Null()]),
  trigger: StringEnum(TRIGGER_KINDS),
  status: Status,
  startedAt: Type.String(),
  durationMs: Type.Number(),
  logs: Type.Array(LogLineSchema),
  error: Type.Union([InvocationErrorSchema, Type.Null()]),
  eventId: Type.Union([Type.String(), Type.Null()]),
  queuedMs: Type.Optional(
    Type.Union([Type.Number(), Type.Null()], {
      description: "ms the run waited in the executor's admission queue (not part of durationMs); null on older records",
    }),
  ),
});

const RecordedText = {
  text: Type.String(),
  bytes: Type.Integer({ description: "Size of the whole text in UTF-8 bytes" }),
  truncated: Type.Boolean({ description: "True when `text` holds only the first bytes (see docs/http-api.md)" }),
};
const HeaderMap = Type.Record(Type.String(), Type.String());

const RecordedRequestSchema = Type.Object(
  {
    method: Type.String(),
    path: Type.String(),
    query: Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())])),
    headers: HeaderMap,
    body: Type.Union([Type.Object(RecordedText), Type.Null()]),
  },
  { description: "The HTTP request; credentials (Authorization, Cookie, the app key...) and secret values are redacted" },
);

const RecordedResponseSchema = Type.Object(
  { status: Type.Integer(), headers: HeaderMap },
  { description: "The HTTP answer: its status and the headers the script (or the error answer) set" },
);

const RecordedResultSchema = Type.Object(
  { ...RecordedText, returned: Type.Boolean({ description: "False when the handler returned nothing (undefined)" }) },
  { description: "A triggered run's return value as JSON text" },
);

/** One stored record: the outcome plus what came in and went out (null on records from before they were kept). */
export const InvocationDetailSchema = Type.Object({
  ...InvocationSchema.properties,
  request: Type.Union([RecordedRequestSchema, Type.Null()]),
  response: Type.Union([RecordedResponseSchema, Type.Null()]),
  result: Type.Union([RecordedResultSchema, Type.Null()]),
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
          trigger: q.trigger,
          before: q.before,
          limit: q.limit,
          text: q.q,
        }),
      };
    },
  );

  api.get(
    "/invocations/:id",
    {
      schema: {
        tags: ["invocations"],
        summary: "One stored record, with the HTTP request and response or the return value",
        params: IdParams,
        response: { 200: InvocationDetailSchema },
      },
    },
    async (request) => {
      await services.recorder.flush();
      const record = await services.invocations.get(request.params.id);
      if (!record) throw new PiCloudError("NOT_FOUND", `No invocation '${request.params.id}'.`);
      return record;
    },
  );
}
