// Request validation. Bodies are checked strictly (no type coercion, unknown fields refused), while
// path and query strings, which are always text on the wire, are coerced to the schema's types.
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import type { FastifyInstance } from "fastify";
import { ERROR_CODE_KEYWORD } from "./routes/schemas.js";

export function installValidation(app: FastifyInstance): void {
  const strict = new Ajv({
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
    verbose: true,
  });
  const coercing = new Ajv({
    coerceTypes: "array",
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
    verbose: true,
  });
  for (const ajv of [strict, coercing]) {
    addFormats.default(ajv);
    // Names the error code of a field's failed check (see routes/schemas.ts); no effect on validity.
    ajv.addKeyword({ keyword: ERROR_CODE_KEYWORD, schemaType: "string" });
  }
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? strict : coercing).compile(schema));
}
