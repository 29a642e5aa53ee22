import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { PiCloudError } from "../../shared/errors.js";
import { AppSettingsSchema } from "../../store/apps.js";
import type { ApiServices } from "../services.js";
import { AppId, AppParams, NoContent } from "./schemas.js";

const AppSchema = Type.Object({ id: Type.String(), settings: AppSettingsSchema, createdAt: Type.String() });

export async function appRoutes(scope: FastifyInstance, services: Pick<ApiServices, "apps" | "control">): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  api.get("/apps", { schema: { tags: ["apps"], response: { 200: Type.Object({ apps: Type.Array(AppSchema) }) } } }, async () => ({
    apps: await services.apps.list(),
  }));

  api.post(
    "/apps",
    {
      schema: {
        tags: ["apps"],
        body: Type.Object({ id: AppId, settings: Type.Optional(AppSettingsSchema) }, { additionalProperties: false }),
        response: { 201: AppSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await services.control.createApp(request.body.id, request.body.settings)),
  );

  api.get("/apps/:app", { schema: { tags: ["apps"], params: AppParams, response: { 200: AppSchema } } }, async (request) =>
    services.apps.require(request.params.app),
  );

  api.patch(
    "/apps/:app",
    { schema: { tags: ["apps"], params: AppParams, body: Type.Object({ settings: AppSettingsSchema }), response: { 200: AppSchema } } },
    async (request) => services.control.updateApp(request.params.app, request.body.settings),
  );

  api.delete(
    "/apps/:app",
    {
      schema: {
        tags: ["apps"],
        summary: "Delete an app with its scripts, data and records",
        params: AppParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      if (!(await services.control.deleteApp(request.params.app)))
        throw new PiCloudError("APP_NOT_FOUND", `No app named '${request.params.app}'.`);
      return reply.code(204).send();
    },
  );
}
