// buildHttpApp(deps) assembles the HTTP server without listening, so tests can use inject().
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, LogController, type FastifyInstance } from "fastify";
import { registerIngress } from "../orchestrator/ingress.js";
import type { Logger } from "../shared/log.js";
import { registerAdminApi, type RouteModule } from "./admin-api.js";
import { DEFAULT_UI_DIR, registerDashboard } from "./dashboard.js";
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling } from "./error-handler.js";
import { PiCloudError } from "../shared/errors.js";
import { registerMetricsRoute } from "./routes/metrics.js";
import { installValidation } from "./validation.js";
import { ErrorBody } from "./routes/schemas.js";
import type { ApiServices } from "./services.js";

const SERVED_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly version: string;
  readonly extraApiRoutes?: readonly RouteModule[];
  /** The built renderer to serve at /; the dashboard is skipped when it has not been built. */
  readonly uiDir?: string;
}

export async function buildHttpApp(services: ApiServices, options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ role: "http" }) as FastifyBaseLogger,
    // Per-request log lines would cost more than a warm invocation; invocations are recorded instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: services.config.bodyLimitBytes,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    return503OnClosing: true,
    forceCloseConnections: "idle",
    routerOptions: { maxParamLength: 1024 },
    // Slow clients cannot hold a connection open forever: headers and body must arrive in time (408).
    requestTimeout: services.config.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(services.config.headersTimeoutMs, services.config.requestTimeoutMs),
      // How often Node checks those deadlines (its default is 30 s, longer than a short timeout).
      connectionsCheckingInterval: Math.min(1_000, services.config.requestTimeoutMs),
    },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  installErrorHandling(app);
  // Methods nobody here serves (TRACE, CONNECT, WebDAV...) are refused before routing and auth.
  app.addHook("onRequest", async (request, reply) => {
    if (SERVED_METHODS.has(request.method)) return;
    reply.header("allow", [...SERVED_METHODS].join(", "));
    throw new PiCloudError("METHOD_NOT_ALLOWED", `${request.method} is not supported.`);
  });
  // Every answer, whoever makes it, is never sniffed into another type.
  app.addHook("onSend", async (_request, reply) => {
    reply.header("x-content-type-options", "nosniff");
  });
  // While draining on shutdown, answer in-flight requests with "Connection: close" so keep-alive
  // clients let go and close() can finish.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
  // The one error shape, shared by every operation's error answers (components/schemas/PiCloudError).
  app.addSchema(ErrorBody);
  installValidation(app);
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
  registerMetricsRoute(app, { metrics: services.metrics, auth: services.auth, public: services.config.metricsPublic });
  await registerAdminApi(app, services, options.extraApiRoutes);
  await registerDashboard(app, options.uiDir ?? DEFAULT_UI_DIR);
  await registerIngress(app, { scripts: services.scriptCache, invoker: services.invoker, bodyLimitBytes: services.config.bodyLimitBytes });
  return app;
}
