// Request validation. Bodies are checked strictly (no type coercion, unknown fields refused), while
// path and query strings, which are always text on the wire, are coerced to the schema's types.
// Compiled on a route's first request, not at start: the admin API has ~50 operations, and
// compiling all their schemas was a sixth of a start; most are never called in a process's life.
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchemaValidationError, FastifyServerOptions } from "fastify";
import { ERROR_CODE_KEYWORD } from "./routes/schemas.js";

function newAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce ? "array" : false,
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
    verbose: true,
  });
  addFormats.default(ajv);
  // Names the error code of a field's failed check (see routes/schemas.ts); no effect on validity.
  ajv.addKeyword({ keyword: ERROR_CODE_KEYWORD, schemaType: "string" });
  return ajv;
}

type BuildValidator = NonNullable<NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"]>["buildValidator"];

/** What fastify calls to validate: the result, and `errors` read right after a failed call. */
type Validate = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null };

/** A validator compiled on its first call; fastify reads `errors` from the function it was given. */
export function lazyValidator(compile: () => Validate): Validate {
  let compiled: Validate | undefined;
  const validate: Validate = (data) => {
    compiled ??= compile();
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  };
  return validate;
}

/**
 * fastify's `schemaController.compilersFactory.buildValidator`. Given as a factory (not through
 * setValidatorCompiler) so that fastify never loads its default compiler, which we do not use.
 */
export function validatorFactory(): BuildValidator {
  const ajvs: { strict?: Ajv; coercing?: Ajv } = {};
  const ajvFor = (httpPart: string | undefined): Ajv => {
    if (httpPart === "body") {
      ajvs.strict ??= newAjv(false);
      return ajvs.strict;
    }
    ajvs.coercing ??= newAjv(true);
    return ajvs.coercing;
  };
  const compiler = ({ schema, httpPart }: { schema: unknown; httpPart?: string | undefined }) =>
    lazyValidator(() => ajvFor(httpPart).compile(schema as object) as Validate);
  // fastify types the factory as Ajv's own; it calls it like any validator compiler (see setValidatorCompiler).
  return (() => compiler) as unknown as BuildValidator;
}
