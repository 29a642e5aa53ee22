// An app's settings and what its scripts run with by default, value by value with the level it comes
// from: the server's defaults or the app's own. Scripts may override strict mode and per-run limits
// on top (script-settings.ts). Settings are changed with `PATCH /apps/{app}`.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { LIMIT_BOUNDS } from "../../shared/limits.js";
import { effectiveSettings } from "../../orchestrator/effective-settings.js";
import { DEFAULT_RECORD_SAMPLE_RATE } from "../../orchestrator/invocation-recorder.js";
import { AppSettingsSchema } from "../../store/apps.js";
import type { ApiServices } from "../services.js";
import { AppParams } from "./schemas.js";

const Source = Type.Union([Type.Literal("server"), Type.Literal("app")], {
  description: "Where the value comes from: the server's defaults or the app's settings",
});
const AppSettingsView = Type.Object({
  app: Type.String(),
  /** The app's own settings, as stored (the app key is never echoed here: only whether one is set). */
  settings: Type.Omit(AppSettingsSchema, ["appKey"]),
  effective: Type.Object({
    strict: Type.Object({ value: Type.Boolean(), source: Source }),
    limits: Type.Object(
      Object.fromEntries(Object.keys(LIMIT_BOUNDS).map((name) => [name, Type.Object({ value: Type.Integer(), source: Source })])),
    ),
    recordSampleRate: Type.Object({ value: Type.Number(), source: Source }),
    browserSandbox: Type.Object({ value: Type.Boolean(), source: Source }),
    appKey: Type.Object({ set: Type.Boolean() }, { description: "Whether script endpoints require the app key" }),
  }),
});

export async function appSettingsRoutes(scope: FastifyInstance, services: Pick<ApiServices, "apps" | "config">): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    "/apps/:app/settings",
    {
      schema: {
        tags: ["apps"],
        summary: "An app's settings and the effective value of each (server defaults < app); change them with PATCH /apps/{app}",
        params: AppParams,
        response: { 200: AppSettingsView },
      },
    },
    async (request) => {
      const { id, settings } = await services.apps.require(request.params.app);
      const resolved = effectiveSettings(services.config.limits, settings);
      const level = (own: unknown) => (own === undefined ? "server" : "app") as "server" | "app";
      const { appKey, ...shown } = settings;
      return {
        app: id,
        settings: shown,
        effective: {
          strict: { value: resolved.strict, source: level(settings.strict) },
          limits: Object.fromEntries(
            Object.entries(resolved.limits).map(([name, value]) => [
              name,
              { value, source: level(settings.limits?.[name as keyof typeof settings.limits]) },
            ]),
          ),
          recordSampleRate: { value: settings.recordSampleRate ?? DEFAULT_RECORD_SAMPLE_RATE, source: level(settings.recordSampleRate) },
          browserSandbox: { value: settings.browserSandbox ?? true, source: level(settings.browserSandbox) },
          appKey: { set: typeof appKey === "string" },
        },
      };
    },
  );
}
