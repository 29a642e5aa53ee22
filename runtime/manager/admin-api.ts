// The admin API under /api/v1: rate-limited, token-authenticated, schema-checked.
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseJsonBody } from "../shared/bounded-json.js";
import { PiCloudError } from "../shared/errors.js";
import { ChangeFeed, changeFromRequest } from "./change-feed.js";
import { appRoutes } from "./routes/apps.js";
import { invocationRoutes } from "./routes/invocations.js";
import { kvRoutes } from "./routes/kv.js";
import { nodeRoutes } from "./routes/nodes.js";
import { appSettingsRoutes } from "./routes/app-settings.js";
import { scriptSettingsRoutes } from "./routes/script-settings.js";
import { scriptRoutes } from "./routes/scripts.js";
import { secretRoutes } from "./routes/secrets.js";
import { statsRoutes } from "./routes/stats.js";
import { tokenRoutes } from "./routes/tokens.js";
import { eventRoutes } from "./routes/events.js";
import { streamRoutes } from "./routes/stream.js";
import { triggerRoutes } from "./routes/triggers.js";
import type { ApiServices } from "./services.js";
import { API_PREFIX, withErrorResponses } from "./routes/schemas.js";

export type RouteModule = (scope: FastifyInstance, services: ApiServices) => Promise<void>;

export { API_PREFIX };

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/** The methods admin routes use, in the order an `allow` header lists them. */
const API_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

export async function registerAdminApi(
  app: FastifyInstance,
  services: ApiServices,
  extraRoutes: readonly RouteModule[] = [],
): Promise<void> {
  await app.register(
    async (scope) => {
      // Every operation documents the error answers and their one shape, so generated clients know them.
      // API answers are data, never documents: nothing in them may run or be framed.
      scope.addHook("onSend", async (_request, reply) => {
        reply.header("content-security-policy", API_CSP);
      });
      // JSON bodies are parsed with a nesting bound: a 100k-deep body is a 400, not a stack overflow later.
      scope.removeContentTypeParser("application/json");
      scope.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
        try {
          done(null, parseJsonBody(body as string));
        } catch (error) {
          done(error as Error, undefined);
        }
      });
      scope.addHook("onRoute", (route) => {
        if (route.schema?.hide) return;
        route.schema = { ...route.schema, response: withErrorResponses(route.schema?.response as Record<string, unknown> | undefined) };
      });
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
      const changes = new ChangeFeed();
      scope.decorate("changeFeed", changes);
      scope.addHook("onResponse", async (request, reply) => {
        const change = changeFromRequest(request.method, request.url, reply.statusCode, API_PREFIX);
        if (change) changes.publish(change);
      });
      scope.get("/openapi.json", { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
      for (const routes of [
        appRoutes,
        appSettingsRoutes,
        scriptRoutes,
        scriptSettingsRoutes,
        kvRoutes,
        invocationRoutes,
        statsRoutes,
        tokenRoutes,
        secretRoutes,
        triggerRoutes,
        eventRoutes,
        streamRoutes,
        nodeRoutes,
        ...extraRoutes,
      ]) {
        await routes(scope, services);
      }
      // Unknown API paths still pass the auth hook first: without a token every path is a 401.
      // A known path asked with another method is a 405 that says which methods it takes.
      const unrouted = async (request: FastifyRequest, reply: FastifyReply) => {
        const path = request.url.split("?", 1)[0] ?? "/";
        const allowed = API_METHODS.filter((method) => {
          // Only this catch-all has a wildcard under the prefix.
          const found = app.findRoute({ method, url: path });
          return found !== null && !("*" in (found.params as Record<string, string>));
        });
        if (allowed.length > 0) {
          reply.header("allow", [...allowed, "OPTIONS"].join(", "));
          throw new PiCloudError("METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}; use ${allowed.join(", ")}.`);
        }
        throw new PiCloudError("NOT_FOUND", `No route for ${request.method} ${path}.`);
      };
      scope.all("/*", { schema: { hide: true } }, unrouted);
    },
    { prefix: API_PREFIX },
  );
}

declare module "fastify" {
  interface FastifyInstance {
    /** Successful admin-API writes, for the live stream (see change-feed.ts). */
    changeFeed: ChangeFeed;
  }
  interface FastifyContextConfig {
    /** Served without an admin token. */
    public?: boolean;
    /** Accepts the admin token as `?access_token=` (only the SSE stream: EventSource cannot send headers). */
    queryToken?: boolean;
  }
}
