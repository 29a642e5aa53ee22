// Per-app secrets and egress patterns. Secret values go in (write-only) and never come out: the API
// lists names and update times only. Every change reaches running instances through the bindings cache.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { parseEgressPattern } from "../../bindings/fetch/egress-policy.js";
import { PiCloudError } from "../../shared/errors.js";
import type { ApiServices } from "../services.js";
import { AppId, AppParams, NoContent } from "./schemas.js";

const SecretParams = Type.Object({ app: AppId, name: Type.String({ minLength: 1, maxLength: 64 }) });
const SecretInfo = Type.Object({ name: Type.String(), updatedAt: Type.String() });
const EgressInfo = Type.Object({ pattern: Type.String(), createdAt: Type.String() });
const EgressModeSchema = Type.Union([Type.Literal("public"), Type.Literal("allowlist")], {
  description: "public (the default): the public internet plus the patterns; allowlist: only the patterns, the public internet included",
});
const EgressView = Type.Object({ mode: EgressModeSchema, patterns: Type.Array(EgressInfo) });

export async function secretRoutes(
  scope: FastifyInstance,
  services: Pick<ApiServices, "apps" | "secrets" | "egress" | "appBindings">,
): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();
  const egressView = async (app: string) => {
    const [mode, patterns] = await Promise.all([services.egress.mode(app), services.egress.list(app)]);
    return { mode, patterns };
  };
  const appExists = async (app: string) => {
    if (!(await services.apps.get(app))) throw new PiCloudError("APP_NOT_FOUND", `No app '${app}'.`);
  };

  api.get(
    "/apps/:app/secrets",
    {
      schema: {
        tags: ["secrets"],
        summary: "Secret names and update times (never values)",
        params: AppParams,
        response: { 200: Type.Object({ secrets: Type.Array(SecretInfo) }) },
      },
    },
    async (request) => {
      await appExists(request.params.app);
      return { secrets: await services.secrets.list(request.params.app) };
    },
  );

  api.put(
    "/apps/:app/secrets/:name",
    {
      schema: {
        tags: ["secrets"],
        summary: "Set a secret (write-only: the value is never returned)",
        params: SecretParams,
        body: Type.Object({ value: Type.String() }, { additionalProperties: false }),
        response: { 200: SecretInfo },
      },
    },
    async (request) => {
      const { app, name } = request.params;
      await appExists(app);
      const info = await services.secrets.set(app, name, request.body.value);
      await services.appBindings.changed(app);
      return info;
    },
  );

  api.delete(
    "/apps/:app/secrets/:name",
    { schema: { tags: ["secrets"], params: SecretParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { app, name } = request.params;
      await appExists(app);
      if (!(await services.secrets.delete(app, name))) throw new PiCloudError("SECRET_NOT_FOUND", `No secret '${name}' in app '${app}'.`);
      await services.appBindings.changed(app);
      return reply.code(204).send();
    },
  );

  api.get(
    "/apps/:app/egress",
    {
      schema: {
        tags: ["egress"],
        summary: "The app's egress mode and the destinations its patterns open (besides the public internet in public mode)",
        params: AppParams,
        response: { 200: EgressView },
      },
    },
    async (request) => {
      await appExists(request.params.app);
      return egressView(request.params.app);
    },
  );

  api.put(
    "/apps/:app/egress/mode",
    {
      schema: {
        tags: ["egress"],
        summary: "Set the egress mode: allowlist (deny all but the patterns) or public (the default)",
        params: AppParams,
        body: Type.Object({ mode: EgressModeSchema }, { additionalProperties: false }),
        response: { 200: EgressView },
      },
    },
    async (request) => {
      const { app } = request.params;
      await appExists(app);
      await services.egress.setMode(app, request.body.mode);
      await services.appBindings.changed(app);
      return egressView(app);
    },
  );

  api.post(
    "/apps/:app/egress",
    {
      schema: {
        tags: ["egress"],
        summary: "Allow destinations: host, host:port, *.domain, an IP address or a CIDR",
        params: AppParams,
        body: Type.Object({ patterns: Type.Array(Type.String(), { minItems: 1, maxItems: 100 }) }, { additionalProperties: false }),
        response: { 200: EgressView },
      },
    },
    async (request) => {
      const { app } = request.params;
      await appExists(app);
      await services.egress.allow(
        app,
        request.body.patterns.map((p) => parseEgressPattern(p).text),
      );
      await services.appBindings.changed(app);
      return egressView(app);
    },
  );

  api.delete(
    "/apps/:app/egress",
    {
      schema: {
        tags: ["egress"],
        summary: "Remove an allowed pattern",
        params: AppParams,
        querystring: Type.Object({ pattern: Type.String({ minLength: 1, maxLength: 300 }) }),
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { app } = request.params;
      await appExists(app);
      if (!(await services.egress.remove(app, request.query.pattern))) {
        throw new PiCloudError("NOT_FOUND", `Pattern '${request.query.pattern}' is not in app '${app}''s egress list.`);
      }
      await services.appBindings.changed(app);
      return reply.code(204).send();
    },
  );
}
