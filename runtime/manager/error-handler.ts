// The one place HTTP errors are shaped: coded errors become {error:{code,message}} with their
// status; fastify's own 4xx errors get our codes; anything else is logged and answered generically.
// Errors raised before routing (a bad URL) or before a request exists at all (oversized headers,
// a request timeout) get the same shape.
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ERROR_CODES, type ErrorCode, PiCloudError } from "../shared/errors.js";
import { ERROR_CODE_KEYWORD, NO_NUL_PATTERN } from "./routes/schemas.js";

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "BAD_REQUEST",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_JSON",
  FST_ERR_BAD_URL: "BAD_REQUEST",
  FST_ERR_MAX_PARAM_LENGTH: "BAD_REQUEST",
};

interface AjvError {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly parentSchema?: Record<string, unknown>;
}

/** A validation failure: the field's own code when its schema names one, else VALIDATION_FAILED. */
function validationError(error: FastifyError): PiCloudError {
  const where = error.validationContext ?? "request";
  const first = (error.validation as AjvError[] | undefined)?.[0];
  const field = first?.instancePath ? first.instancePath.replace(/^\//, "").replaceAll("/", ".") : undefined;
  const code = first?.parentSchema?.[ERROR_CODE_KEYWORD];
  // The field's own code is for a value of the right type but the wrong form; a wrong type stays VALIDATION_FAILED.
  if (typeof code === "string" && code in ERROR_CODES && first?.keyword !== "type") {
    const explained = first?.parentSchema?.description ?? ERROR_CODES[code as ErrorCode].message;
    return new PiCloudError(code as ErrorCode, `Invalid ${where}${field ? ` '${field}'` : ""}: ${explained}`);
  }
  const message =
    first?.keyword === "pattern" && first.parentSchema?.pattern === NO_NUL_PATTERN
      ? `${field ?? where} must not contain NUL characters`
      : error.message;
  return new PiCloudError("VALIDATION_FAILED", `Invalid ${where}: ${message}`);
}

/** PostgreSQL "data exception" (class 22): a value the database refuses, e.g. NUL in text or an out-of-range time. */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^22[0-9A-Z]{3}$/.test(code);
}

export function toPiCloudError(error: FastifyError): PiCloudError | undefined {
  if (error instanceof PiCloudError) return error;
  if (error.validation) return validationError(error);
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return new PiCloudError(mapped, mapped === "BODY_TOO_LARGE" ? undefined : error.message);
  if (error instanceof SyntaxError) return new PiCloudError("INVALID_JSON", `The body is not valid JSON: ${error.message}`);
  // A last line of defence: input the schemas let through but the database cannot hold is still the caller's.
  if (isDataException(error)) return new PiCloudError("VALIDATION_FAILED", `A value was refused by the database: ${error.message}`);
  if (error.statusCode === 429) return new PiCloudError("RATE_LIMITED");
  if (error.statusCode === 405) return new PiCloudError("METHOD_NOT_ALLOWED", error.message);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return new PiCloudError("BAD_REQUEST", error.message);
  return undefined;
}

function errorJson(code: ErrorCode, message?: string): string {
  return JSON.stringify({ error: { code, message: message ?? ERROR_CODES[code].message } });
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const coded = toPiCloudError(error);
    if (!coded || coded.code === "INTERNAL") {
      request.log.error({ err: error }, "unhandled error");
      return reply.code(500).send({ error: { code: "INTERNAL", message: ERROR_CODES.INTERNAL.message } });
    }
    // An overload says when to retry (a deploy whose check found no executor thread, say), as ingress does.
    const retryAfter = coded.details?.retryAfter;
    if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
    return reply.code(coded.status).send({ error: coded.toJSON() });
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .header("content-security-policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
      .send({ error: { code: "NOT_FOUND", message: `No route for ${request.method} ${request.url.split("?", 1)[0]}.` } });
  });
}

/** fastify's `frameworkErrors`: a URL that does not decode, answered before routing. */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const coded = toPiCloudError(error) ?? new PiCloudError("BAD_REQUEST");
  void reply.code(coded.status).header("content-type", "application/json; charset=utf-8").send(errorJson(coded.code, coded.message));
}

/** fastify's `clientErrorHandler`: the socket-level errors Node raises before a request exists. */
export function clientErrorHandler(error: NodeJS.ErrnoException & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, body] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, errorJson("REQUEST_TIMEOUT")]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, errorJson("HEADERS_TOO_LARGE")]
        : [400, errorJson("BAD_REQUEST", "The request is not valid HTTP.")];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const reason = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" }[status];
  // end() flushes the answer before closing (destroy() could drop it); a client that keeps
  // sending anyway is cut off shortly after.
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1_000).unref();
}
