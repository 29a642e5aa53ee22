// buildHttpApp(deps) assembles the HTTP server without listening, so tests can use inject().
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, LogController, type FastifyInstance } from "fastify";
import { registerIngress } from "../orchestrator/ingress.js";
import type { Logger } from "../shared/log.js";
import { registerAdminApi, type RouteModule } from "./admin-api.js";
import { DEFAULT_UI_DIR, registerDashboard } from "./dashboard.js";
import { installErrorHandling } from "./error-handler.js";
import { registerMetricsRoute } from "./routes/metrics.js";
import { installValidation } from "./validation.js";
import type { ApiServices } from "./services.js";

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
  });
  installErrorHandling(app);
  // While draining on shutdown, answer in-flight requests with "Connection: close" so keep-alive
  // clients let go and close() can finish.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
  installValidation(app);
  await app.register(swagger, {
    openapi: {
      info: { title: "PiCloud admin API", version: options.version },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
  });
  app.get("/health", async () => ({ ok: true, version: options.version }));
  registerMetricsRoute(app, { metrics: services.metrics, auth: services.auth, public: services.config.metricsPublic });
  await registerAdminApi(app, services, options.extraApiRoutes);
  await registerDashboard(app, options.uiDir ?? DEFAULT_UI_DIR);
  await registerIngress(app, { scripts: services.scriptCache, invoker: services.invoker, bodyLimitBytes: services.config.bodyLimitBytes });
  return app;
}
