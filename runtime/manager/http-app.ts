// buildHttpApp(options, roles) assembles one process's HTTP server without listening, so tests can
// use inject(). The shared parts (error shape, validation, OpenAPI, health) are here; each role
// adds its own routes: the manager the admin API and dashboard, the node the script endpoints.
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { installFrontDoor } from "../orchestrator/front-door.js";
import type { Config } from "../shared/config.js";
import type { Logger } from "../shared/log.js";
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling } from "./error-handler.js";
import { PiCloudError } from "../shared/errors.js";
import { lazyChildLogger } from "./lazy-request-logger.js";
import { lazySerializerFactory } from "./lazy-serializer.js";
import { validatorFactory } from "./validation.js";
import { API_PREFIX, ErrorBody } from "./routes/schemas.js";

const SERVED_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const ALLOW = [...SERVED_METHODS].join(", ");

export interface HttpAppOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
}

/** A role that serves HTTP routes. */
export interface HttpRole {
  registerHttp(app: FastifyInstance): Promise<void>;
}

/**
 * A request that reaches a server that is closing (on a keep-alive or pipelined connection; new
 * connections are no longer accepted) is answered SHUTTING_DOWN in the one error shape, readable by a
 * browser on another origin (the desktop app, another node's dashboard). CORS preflights to the admin
 * API still pass to its CORS handler: a failed preflight would hide the answer from the browser.
 */
function refuseWhileClosing(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
  const origin = request.headers.origin;
  if (
    origin !== undefined &&
    request.method === "OPTIONS" &&
    request.headers["access-control-request-method"] !== undefined &&
    request.url.startsWith(API_PREFIX)
  ) {
    done();
    return;
  }
  reply.header("retry-after", "1");
  if (origin !== undefined) reply.header("access-control-allow-origin", "*").header("access-control-expose-headers", "retry-after");
  done(new PiCloudError("SHUTTING_DOWN"));
}

export async function buildHttpApp(options: HttpAppOptions, roles: readonly HttpRole[]): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ role: "http" }) as FastifyBaseLogger,
    // Per-request log lines would cost more than a warm invocation; invocations are recorded instead.
    logController: new LogController({ disableRequestLogging: true }),
    // ...and so a request's child logger is made only when it logs (lazy-request-logger.ts).
    childLoggerFactory: lazyChildLogger,
    bodyLimit: options.config.bodyLimitBytes,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // Requests that reach a closing server get our coded SHUTTING_DOWN instead (refuseWhileClosing).
    return503OnClosing: false,
    forceCloseConnections: "idle",
    routerOptions: { maxParamLength: 1024 },
    // Slow clients cannot hold a connection open forever: headers and body must arrive in time (408).
    requestTimeout: options.config.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(options.config.headersTimeoutMs, options.config.requestTimeoutMs),
      // How often Node checks those deadlines (its default is 30 s, longer than a short timeout).
      connectionsCheckingInterval: Math.min(1_000, options.config.requestTimeoutMs),
    },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Schemas compile on a route's first use instead of at start (validation.ts, lazy-serializer.ts).
    schemaController: { compilersFactory: { buildValidator: validatorFactory(), buildSerializer: lazySerializerFactory } },
  });
  installErrorHandling(app);
  const door = installFrontDoor(app);
  // `door.closing` is set when close() starts (fastify's return503OnClosing would answer its own uncoded 503 instead).
  app.addHook("preClose", async () => {
    door.closing = true;
  });
  // Methods nobody here serves (TRACE, CONNECT, WebDAV...) are refused before routing and auth.
  // The hooks every request passes through are callback-style: an async hook costs a promise and a
  // microtask per request on the main thread, the script endpoints' hot path.
  app.addHook("onRequest", (request, reply, done) => {
    const closing = door.closing && !door.handedOn.has(request.raw);
    if (SERVED_METHODS.has(request.method) && !closing) return done();
    if (closing) return refuseWhileClosing(request, reply, done);
    reply.header("allow", ALLOW);
    done(new PiCloudError("METHOD_NOT_ALLOWED", `${request.method} is not supported.`));
  });
  // While draining on shutdown, answer in-flight requests with "Connection: close" so keep-alive
  // clients let go and close() can finish.
  app.addHook("onSend", (_request, reply, payload, done) => {
    // Every answer, whoever makes it, is never sniffed into another type.
    reply.header("x-content-type-options", "nosniff");
    if (door.closing) reply.header("connection", "close");
    done(null, payload);
  });
  // The one error shape, shared by every operation's error answers (components/schemas/PiCloudError).
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      info: { title: "PiCloud admin API", version: options.version },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
    // Shared schemas keep their $id as their name in components (e.g. PiCloudError).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`) },
  });
  app.get("/health", async () => ({ ok: true, version: options.version }));
  for (const role of roles) await role.registerHttp(app);
  return app;
}
