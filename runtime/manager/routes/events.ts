import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { PiCloudError } from "../../shared/errors.js";
import type { ApiServices } from "../services.js";
import { AppId, EventKindSchema, EventStatusSchema, IdParams, NoContent, RecordId, ScriptName, StringEnum } from "./schemas.js";

const EventStatus = Type.Union((["pending", "running", "done", "dead", "failed"] as const).map((s) => Type.Literal(s)));

const Attempt = Type.Object({
  attempt: Type.Integer(),
  at: Type.String(),
  durationMs: Type.Number(),
  invocation: Type.Union([Type.String(), Type.Null()]),
  version: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }),
});

export const EventSchema = Type.Object({
  id: Type.String(),
  app: Type.String(),
  triggerId: Type.Union([Type.String(), Type.Null()]),
  script: Type.String(),
  kind: EventKindSchema,
  payload: Type.Record(Type.String(), Type.Unknown()),
  status: EventStatusSchema,
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  backoffMs: Type.Integer(),
  backoffMaxMs: Type.Integer(),
  chainDepth: Type.Integer(),
  isDeadLetterHandler: Type.Boolean(),
  runAt: Type.String(),
  leaseOwner: Type.Union([Type.String(), Type.Null()]),
  errors: Type.Array(Attempt),
  createdAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
});

export const DeadLetterSchema = Type.Object({
  id: Type.String(),
  app: Type.String(),
  eventId: Type.String(),
  triggerId: Type.Union([Type.String(), Type.Null()]),
  script: Type.String(),
  version: Type.Union([Type.Integer(), Type.Null()]),
  kind: EventKindSchema,
  event: Type.Record(Type.String(), Type.Unknown()),
  attempts: Type.Array(Attempt),
  chainDepth: Type.Integer(),
  firstAttemptAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  handlerStatus: Type.Union([StringEnum(["pending", "ok", "failed"]), Type.Null()], {
    description: "What the dead-letter handler did with it: null when there is none (yet)",
  }),
});

/**
 * A date-time as UTC. RFC 3339 allows offsets up to ±23:59 while PostgreSQL takes ±15:59, so the
 * offset is applied here instead of being handed to the database.
 */
function utcTime(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new PiCloudError("VALIDATION_FAILED", `'${name}' is not a date-time within range.`);
  return new Date(ms).toISOString();
}

// Record ids, checked against their pattern like every other id (400 VALIDATION_FAILED); well-formed
// ids that match no dead letter are reported back as `missing`.
const Ids = Type.Object({ ids: Type.Array(RecordId, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });

export async function eventRoutes(
  scope: FastifyInstance,
  services: Pick<ApiServices, "control" | "deadLetters" | "events">,
): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    "/events",
    {
      schema: {
        tags: ["events"],
        summary: "Recent events with their delivery status, newest first; page with ?before=<last id>",
        querystring: Type.Object({
          app: Type.Optional(AppId),
          script: Type.Optional(ScriptName),
          status: Type.Optional(EventStatus),
          before: Type.Optional(RecordId),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
        response: {
          200: Type.Object({
            events: Type.Array(EventSchema),
            counts: Type.Record(Type.String(), Type.Integer()),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const [events, counts] = await Promise.all([
        services.events.list({ app: q.app, script: q.script, status: q.status, before: q.before, limit: q.limit }),
        services.events.counts(q.app),
      ]);
      return { events, counts };
    },
  );

  api.get("/events/:id", { schema: { tags: ["events"], params: IdParams, response: { 200: EventSchema } } }, async (request) => {
    const event = await services.events.get(request.params.id);
    if (!event) throw new PiCloudError("EVENT_NOT_FOUND", `No event '${request.params.id}'.`);
    return event;
  });

  api.get(
    "/deadletters",
    {
      schema: {
        tags: ["dead letters"],
        summary: "Dead letters, newest first; filter by app, script and time",
        querystring: Type.Object({
          app: Type.Optional(AppId),
          script: Type.Optional(ScriptName),
          since: Type.Optional(Type.String({ format: "date-time" })),
          until: Type.Optional(Type.String({ format: "date-time" })),
          before: Type.Optional(RecordId),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
        response: { 200: Type.Object({ deadLetters: Type.Array(DeadLetterSchema), total: Type.Integer() }) },
      },
    },
    async (request) => {
      const q = { ...request.query, since: utcTime(request.query.since, "since"), until: utcTime(request.query.until, "until") };
      const [deadLetters, total] = await Promise.all([services.deadLetters.list(q), services.deadLetters.count(q.app)]);
      return { deadLetters, total };
    },
  );

  api.get(
    "/deadletters/:id",
    { schema: { tags: ["dead letters"], params: IdParams, response: { 200: DeadLetterSchema } } },
    async (request) => {
      const letter = await services.deadLetters.get(request.params.id);
      if (!letter) throw new PiCloudError("DEAD_LETTER_NOT_FOUND", `No dead letter '${request.params.id}'.`);
      return letter;
    },
  );

  api.post(
    "/deadletters/replay",
    {
      schema: {
        tags: ["dead letters"],
        summary: "Replay dead letters as fresh events against the current script version",
        body: Ids,
        response: {
          200: Type.Object({
            replayed: Type.Array(Type.Object({ deadLetter: Type.String(), event: Type.String() })),
            missing: Type.Array(Type.String()),
          }),
        },
      },
    },
    async (request) => services.control.replayDeadLetters(request.body.ids),
  );

  api.post(
    "/deadletters/delete",
    {
      schema: {
        tags: ["dead letters"],
        summary: "Delete dead letters",
        body: Ids,
        response: { 200: Type.Object({ deleted: Type.Array(Type.String()), missing: Type.Array(Type.String()) }) },
      },
    },
    async (request) => services.control.deleteDeadLetters(request.body.ids),
  );

  api.delete(
    "/deadletters/:id",
    { schema: { tags: ["dead letters"], summary: "Delete one dead letter", params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { deleted } = await services.control.deleteDeadLetters([request.params.id]);
      if (deleted.length === 0) throw new PiCloudError("DEAD_LETTER_NOT_FOUND", `No dead letter '${request.params.id}'.`);
      return reply.code(204).send();
    },
  );
}
