// The one place HTTP errors are shaped: coded errors become {error:{code,message}} with their
// status; fastify's own 4xx errors get our codes; anything else is logged and answered generically.
import type { FastifyError, FastifyInstance } from "fastify";
import { ERROR_CODES, type ErrorCode, PiCloudError } from "../shared/errors.js";

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "BAD_REQUEST",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_JSON",
};

function toPiCloudError(error: FastifyError): PiCloudError | undefined {
  if (error instanceof PiCloudError) return error;
  if (error.validation) {
    const where = error.validationContext ?? "request";
    return new PiCloudError("VALIDATION_FAILED", `Invalid ${where}: ${error.message}`);
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return new PiCloudError(mapped, mapped === "INVALID_JSON" ? `The body is not valid JSON: ${error.message}` : undefined);
  if (error instanceof SyntaxError) return new PiCloudError("INVALID_JSON", `The body is not valid JSON: ${error.message}`);
  if (error.statusCode === 429) return new PiCloudError("RATE_LIMITED");
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return new PiCloudError("BAD_REQUEST", error.message);
  return undefined;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const coded = toPiCloudError(error);
    if (!coded || coded.code === "INTERNAL") {
      request.log.error({ err: error }, "unhandled error");
      return reply.code(500).send({ error: { code: "INTERNAL", message: ERROR_CODES.INTERNAL.message } });
    }
    return reply.code(coded.status).send({ error: coded.toJSON() });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { code: "NOT_FOUND", message: `No route for ${request.method} ${request.url.split("?", 1)[0]}.` } });
  });
}
