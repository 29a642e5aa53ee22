import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { PiCloudError } from "../../shared/errors.js";
import { endpointUrl } from "../script-endpoints.js";
import type { ApiServices } from "../services.js";
import { AppParams, InvocationErrorSchema, LogLineSchema, NoContent, ScriptParams, Text, VersionParams } from "./schemas.js";

const Language = Type.Union([Type.Literal("javascript"), Type.Literal("typescript")]);

const VersionMeta = Type.Object({
  app: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  language: Language,
  restoredFrom: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String(),
});
const VersionFull = Type.Intersect([VersionMeta, Type.Object({ source: Type.String() })]);
const ServedBySchema = Type.Union(
  [Type.Literal("this-server"), Type.Literal("front-door"), Type.Literal("node"), Type.Literal("no-node-up")],
  {
    description:
      "Who serves `url`: this server; the front door the request came through; a node (this is a manager alone); or no node is up yet",
  },
);
const Deployed = Type.Intersect([VersionMeta, Type.Object({ url: Type.String(), servedBy: ServedBySchema })]);

const SampleRequest = Type.Object(
  {
    method: Type.Optional(Type.String({ pattern: "^[A-Za-z]+$" })),
    path: Type.Optional(Text()),
    query: Type.Optional(Type.Record(Type.String(), Type.Union([Text(), Type.Array(Text())]))),
    headers: Type.Optional(Type.Record(Type.String(), Text())),
    body: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

const withoutCode = <T extends { source: string; compiled: string }>(version: T) => {
  const { compiled: _compiled, ...rest } = version;
  return rest;
};

export async function scriptRoutes(
  scope: FastifyInstance,
  services: Pick<ApiServices, "apps" | "control" | "endpoints" | "invoker" | "scriptCache" | "scripts">,
): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    "/apps/:app/scripts",
    {
      schema: {
        tags: ["scripts"],
        params: AppParams,
        response: {
          200: Type.Object({
            scripts: Type.Array(
              Type.Object({
                app: Type.String(),
                name: Type.String(),
                currentVersion: Type.Integer(),
                createdAt: Type.String(),
                updatedAt: Type.String(),
                url: Type.String(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      await services.apps.require(request.params.app);
      const scripts = await services.scripts.list(request.params.app);
      const base = await services.endpoints.base(request);
      return { scripts: scripts.map((s) => ({ ...s, url: endpointUrl(base, s.app, s.name) })) };
    },
  );

  api.put(
    "/apps/:app/scripts/:name",
    {
      schema: {
        tags: ["scripts"],
        summary: "Deploy a new version of a script",
        params: ScriptParams,
        body: Type.Object({ source: Text(), language: Type.Optional(Language) }, { additionalProperties: false }),
        response: { 201: Deployed },
      },
    },
    async (request, reply) => {
      const { app, name } = request.params;
      const version = await services.control.deploy(app, name, request.body.source, request.body.language);
      const { source: _source, ...meta } = withoutCode(version);
      const base = await services.endpoints.base(request);
      return reply.code(201).send({ ...meta, url: endpointUrl(base, app, name), servedBy: base.servedBy });
    },
  );

  api.get(
    "/apps/:app/scripts/:name",
    {
      schema: {
        tags: ["scripts"],
        params: ScriptParams,
        response: { 200: Type.Intersect([VersionFull, Type.Object({ url: Type.String() })]) },
      },
    },
    async (request) => {
      const { app, name } = request.params;
      const current = await services.scripts.current(app, name);
      if (!current) throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${name}' in app '${app}'.`);
      return { ...withoutCode(current), url: endpointUrl(await services.endpoints.base(request), app, name) };
    },
  );

  api.delete(
    "/apps/:app/scripts/:name",
    { schema: { tags: ["scripts"], summary: "Delete a script and its versions", params: ScriptParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { app, name } = request.params;
      if (!(await services.control.deleteScript(app, name)))
        throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${name}' in app '${app}'.`);
      return reply.code(204).send();
    },
  );

  api.get(
    "/apps/:app/scripts/:name/versions",
    { schema: { tags: ["scripts"], params: ScriptParams, response: { 200: Type.Object({ versions: Type.Array(VersionMeta) }) } } },
    async (request) => ({ versions: await services.scripts.versions(request.params.app, request.params.name) }),
  );

  api.get(
    "/apps/:app/scripts/:name/versions/:version",
    { schema: { tags: ["scripts"], params: VersionParams, response: { 200: VersionFull } } },
    async (request) => withoutCode(await services.scripts.version(request.params.app, request.params.name, request.params.version)),
  );

  api.post(
    "/apps/:app/scripts/:name/versions/:version/restore",
    {
      schema: {
        tags: ["scripts"],
        summary: "Make an earlier version current again (as a new version)",
        params: VersionParams,
        response: { 201: Deployed },
      },
    },
    async (request, reply) => {
      const { app, name, version } = request.params;
      const { source: _source, ...meta } = withoutCode(await services.control.restore(app, name, version));
      const base = await services.endpoints.base(request);
      return reply.code(201).send({ ...meta, url: endpointUrl(base, app, name), servedBy: base.servedBy });
    },
  );

  api.post(
    "/apps/:app/scripts/:name/invoke",
    {
      schema: {
        tags: ["scripts"],
        summary: "Test run: invoke the current version with a sample request or event",
        params: ScriptParams,
        body: Type.Object(
          { request: Type.Optional(SampleRequest), event: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            invocation: Type.String(),
            version: Type.Integer(),
            ok: Type.Boolean(),
            status: Type.Integer(),
            headers: Type.Record(Type.String(), Type.String()),
            body: Type.Union([Type.String(), Type.Null()]),
            logs: Type.Array(LogLineSchema),
            durationMs: Type.Number(),
            error: Type.Union([InvocationErrorSchema, Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const { app, name } = request.params;
      const target = await services.scriptCache.get(app, name);
      if (!target) throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${name}' in app '${app}'.`);
      const sample = request.body.request ?? {};
      const path = sample.path ?? "/";
      const subpath = path.startsWith("/") ? path : `/${path}`;
      const input = request.body.event
        ? { trigger: "test" as const, event: request.body.event, eventId: "test" }
        : {
            trigger: "test" as const,
            request: {
              method: (sample.method ?? "GET").toUpperCase(),
              path: `/${app}/${name}${subpath === "/" ? "" : subpath}`,
              subpath,
              query: sample.query ?? {},
              headers: Object.fromEntries(Object.entries(sample.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
              body: sample.body ?? null,
            },
          };
      const { id, version, outcome, response } = await services.invoker.run(target, input);
      const base = { invocation: id, version, logs: outcome.logs, durationMs: outcome.durationMs };
      if (!outcome.ok) return { ...base, ok: false, status: 500, headers: {}, body: null, error: outcome.error };
      // Event runs have no HTTP response: their return value is shown as JSON.
      const shown = response ?? { status: 200, headers: {}, body: outcome.resultJson ?? null };
      return {
        ...base,
        ok: true,
        status: shown.status,
        headers: shown.headers,
        body: shown.body === null ? null : shown.body.toString(),
        error: null,
      };
    },
  );
}
