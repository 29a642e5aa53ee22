import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { PiCloudError } from "../../shared/errors.js";
import type { ApiServices } from "../services.js";
import { COLLECTION_PATTERN } from "../../store/kv.js";
import { AppId, AppParams, coded, NoContent, Text } from "./schemas.js";

const Collection = coded("KV_INVALID_COLLECTION", { pattern: COLLECTION_PATTERN, minLength: 1, maxLength: 128 });
const CollectionParams = Type.Object({ app: AppId, collection: Collection });
const KeyParams = Type.Object({ app: AppId, collection: Collection, key: Type.String({ minLength: 1 }) });
const Entry = Type.Object({ key: Type.String(), value: Type.Unknown() });

export async function kvRoutes(scope: FastifyInstance, services: Pick<ApiServices, "apps" | "kv">): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    "/apps/:app/kv",
    {
      schema: {
        tags: ["kv"],
        summary: "List the app's collections with their key counts",
        params: AppParams,
        response: { 200: Type.Object({ collections: Type.Array(Type.Object({ name: Type.String(), count: Type.Integer() })) }) },
      },
    },
    async (request) => {
      await services.apps.require(request.params.app);
      return { collections: await services.kv.collections(request.params.app) };
    },
  );

  api.get(
    "/apps/:app/kv/:collection",
    {
      schema: {
        tags: ["kv"],
        summary: "List keys and values, in key order, with cursor pagination",
        params: CollectionParams,
        querystring: Type.Object({
          prefix: Type.Optional(Text()),
          cursor: Type.Optional(Text()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(Entry), cursor: Type.Union([Type.String(), Type.Null()]) }) },
      },
    },
    async (request) => {
      const { app, collection } = request.params;
      await services.apps.require(app);
      const page = await services.kv.list(app, collection, request.query);
      return { items: page.items.map((item) => ({ key: item.key, value: JSON.parse(item.valueJson) })), cursor: page.cursor };
    },
  );

  api.get("/apps/:app/kv/:collection/:key", { schema: { tags: ["kv"], params: KeyParams, response: { 200: Entry } } }, async (request) => {
    const { app, collection, key } = request.params;
    await services.apps.require(app);
    const valueJson = await services.kv.get(app, collection, key);
    if (valueJson === null) throw new PiCloudError("KV_KEY_NOT_FOUND", `No key ${JSON.stringify(key)} in collection '${collection}'.`);
    return { key, value: JSON.parse(valueJson) };
  });

  api.put(
    "/apps/:app/kv/:collection/:key",
    {
      schema: {
        tags: ["kv"],
        params: KeyParams,
        body: Type.Object({ value: Type.Unknown() }, { additionalProperties: false, required: ["value"] }),
        response: { 200: Type.Object({ key: Type.String(), op: Type.Union([Type.Literal("insert"), Type.Literal("update")]) }) },
      },
    },
    async (request) => {
      const { app, collection, key } = request.params;
      await services.apps.require(app);
      if (!("value" in request.body)) throw new PiCloudError("KV_INVALID_VALUE", 'The body must be {"value": <JSON>}.');
      const op = await services.kv.set(app, collection, key, JSON.stringify(request.body.value));
      return { key, op: op as "insert" | "update" };
    },
  );

  api.delete(
    "/apps/:app/kv/:collection/:key",
    { schema: { tags: ["kv"], params: KeyParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { app, collection, key } = request.params;
      await services.apps.require(app);
      if (!(await services.kv.delete(app, collection, key))) {
        throw new PiCloudError("KV_KEY_NOT_FOUND", `No key ${JSON.stringify(key)} in collection '${collection}'.`);
      }
      return reply.code(204).send();
    },
  );
}
