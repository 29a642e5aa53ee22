// The admin API under /api/v1: rate-limited, token-authenticated, schema-checked.
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import { PiCloudError } from "../shared/errors.js";
import { appRoutes } from "./routes/apps.js";
import { invocationRoutes } from "./routes/invocations.js";
import { kvRoutes } from "./routes/kv.js";
import { scriptRoutes } from "./routes/scripts.js";
import { statsRoutes } from "./routes/stats.js";
import { tokenRoutes } from "./routes/tokens.js";
import { eventRoutes } from "./routes/events.js";
import { streamRoutes } from "./routes/stream.js";
import { triggerRoutes } from "./routes/triggers.js";
import type { ApiServices } from "./services.js";

export type RouteModule = (scope: FastifyInstance, services: ApiServices) => Promise<void>;

export const API_PREFIX = "/api/v1";

export async function registerAdminApi(
  app: FastifyInstance,
  services: ApiServices,
  extraRoutes: readonly RouteModule[] = [],
): Promise<void> {
  await app.register(
    async (scope) => {
      // Bearer tokens are not ambient credentials, so any origin may call the API with one:
      // the desktop app and dashboards of other nodes manage this runtime cross-origin.
      await scope.register(cors, {
        origin: "*",
        methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
        allowedHeaders: ["authorization", "content-type"],
        maxAge: 600,
      });
      await scope.register(rateLimit, {
        max: services.config.adminRateLimitPerMinute,
        timeWindow: 60_000,
        errorResponseBuilder: (_request, context) =>
          new PiCloudError(
            "RATE_LIMITED",
            `Too many requests: at most ${context.max} per minute. Retry in ${Math.ceil(context.ttl / 1000)} s.`,
          ),
      });
      scope.addHook("onRequest", async (request) => {
        if (request.routeOptions.config?.public === true || request.method === "OPTIONS") return;
        await services.auth.check(request);
      });
      scope.get("/openapi.json", { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
      for (const routes of [
        appRoutes,
        scriptRoutes,
        kvRoutes,
        invocationRoutes,
        statsRoutes,
        tokenRoutes,
        triggerRoutes,
        eventRoutes,
        streamRoutes,
        ...extraRoutes,
      ]) {
        await routes(scope, services);
      }
      // Unknown API paths still pass the auth hook first: without a token every path is a 401.
      scope.all("/*", async (request) => {
        throw new PiCloudError("NOT_FOUND", `No route for ${request.method} ${request.url.split("?", 1)[0]}.`);
      });
    },
    { prefix: API_PREFIX },
  );
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without an admin token. */
    public?: boolean;
  }
}
