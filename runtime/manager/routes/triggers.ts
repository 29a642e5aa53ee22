import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { ApiServices } from "../services.js";
import { ERROR_CODES } from "../../shared/errors.js";
import { COLLECTION_PATTERN } from "../../store/kv.js";
import { AppParams, coded, IdParams, NoContent, Nullable, ScriptName, StringEnum, Text } from "./schemas.js";

const Retry = {
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "Attempts in all, including the first (default 5)" })),
  backoffMs: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 86_400_000, description: "First retry delay; doubles per attempt (default 1000)" }),
  ),
  backoffMaxMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000, description: "Cap on any one delay (default 300000)" })),
};

const NewTrigger = Type.Union([
  Type.Object(
    {
      kind: Type.Literal("kv"),
      script: ScriptName,
      collection: coded("TRIGGER_INVALID", {
        pattern: COLLECTION_PATTERN,
        minLength: 1,
        maxLength: 128,
        description: ERROR_CODES.KV_INVALID_COLLECTION.message,
      }),
      ops: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 3 })),
      prefix: Type.Optional(Text()),
      ...Retry,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal("schedule"),
      script: ScriptName,
      cron: Text({ minLength: 1, maxLength: 200 }),
      timezone: Type.Optional(Text({ maxLength: 100 })),
      ...Retry,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal("dead_letter"), script: ScriptName, forScript: Type.Optional(ScriptName), ...Retry },
    { additionalProperties: false },
  ),
]);

const TriggerCommon = { id: Type.String(), app: Type.String(), script: Type.String() };
const TriggerRetry = {
  maxAttempts: Type.Integer(),
  backoffMs: Type.Integer(),
  backoffMaxMs: Type.Integer(),
  createdAt: Type.String(),
};

/**
 * One trigger, told apart by `kind`. Each branch lists its fields in the order the single object
 * schema before it did, so the JSON answered is byte for byte the same.
 */
export const TriggerSchema = Type.Union([
  Type.Object({
    ...TriggerCommon,
    kind: Type.Literal("kv"),
    collection: Type.String(),
    ops: Type.Array(StringEnum(["insert", "update", "delete"])),
    prefix: Nullable(Type.String()),
    ...TriggerRetry,
  }),
  Type.Object({ ...TriggerCommon, kind: Type.Literal("schedule"), cron: Type.String(), timezone: Type.String(), ...TriggerRetry }),
  Type.Object({ ...TriggerCommon, kind: Type.Literal("dead_letter"), forScript: Nullable(Type.String()), ...TriggerRetry }),
]);

export async function triggerRoutes(scope: FastifyInstance, services: Pick<ApiServices, "apps" | "control" | "triggers">): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    "/apps/:app/triggers",
    { schema: { tags: ["triggers"], params: AppParams, response: { 200: Type.Object({ triggers: Type.Array(TriggerSchema) }) } } },
    async (request) => {
      await services.apps.require(request.params.app);
      return { triggers: await services.triggers.list({ app: request.params.app }) };
    },
  );

  api.post(
    "/apps/:app/triggers",
    {
      schema: {
        tags: ["triggers"],
        summary: "Bind a script to KV changes, a cron schedule, or the app's dead letters",
        params: AppParams,
        body: NewTrigger,
        response: { 201: TriggerSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await services.control.addTrigger(request.params.app, request.body)),
  );

  api.delete(
    "/triggers/:id",
    { schema: { tags: ["triggers"], summary: "Remove a trigger", params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await services.control.removeTrigger(request.params.id);
      return reply.code(204).send();
    },
  );
}
