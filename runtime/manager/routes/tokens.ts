import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { PiCloudError } from "../../shared/errors.js";
import type { ApiServices } from "../services.js";
import { IdParams, NoContent, Text } from "./schemas.js";

const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
});

export async function tokenRoutes(scope: FastifyInstance, services: Pick<ApiServices, "auth" | "tokens">): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  api.get("/tokens", { schema: { tags: ["tokens"], response: { 200: Type.Object({ tokens: Type.Array(TokenInfo) }) } } }, async () => ({
    tokens: await services.tokens.list(),
  }));

  api.post(
    "/tokens",
    {
      schema: {
        tags: ["tokens"],
        summary: "Create an admin token; the response is the only time it is shown",
        body: Type.Object({ name: Text({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 201: Type.Intersect([TokenInfo, Type.Object({ token: Type.String() })]) },
      },
    },
    async (request, reply) => {
      const { token, info } = await services.tokens.create(request.body.name);
      return reply.code(201).send({ ...info, token });
    },
  );

  api.delete(
    "/tokens/:id",
    {
      schema: {
        tags: ["tokens"],
        summary: "Revoke an admin token; the last one cannot be revoked (409 TOKEN_LAST)",
        params: IdParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const outcome = await services.tokens.revoke(request.params.id);
      if (outcome === "missing") throw new PiCloudError("TOKEN_NOT_FOUND");
      if (outcome === "last") throw new PiCloudError("TOKEN_LAST");
      await services.auth.forgetAll(request.params.id);
      return reply.code(204).send();
    },
  );
}
