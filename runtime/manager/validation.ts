// Request validation. Bodies are checked strictly (no type coercion, unknown fields refused), while
// path and query strings, which are always text on the wire, are coerced to the schema's types.
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import type { FastifyInstance } from "fastify";

export function installValidation(app: FastifyInstance): void {
  const strict = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  const coercing = new Ajv({ coerceTypes: "array", removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  for (const ajv of [strict, coercing]) addFormats.default(ajv);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? strict : coercing).compile(schema));
}
