// A script's own settings (limits and strict mode) and what it effectively runs with, value by value
// with the level it comes from: server defaults < app < script.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { APP_WIDE_LIMITS, LIMIT_BOUNDS, SCRIPT_LIMITS, ScriptLimitsOverrideSchema } from "../../shared/limits.js";
import { effectiveSettings } from "../../orchestrator/effective-settings.js";
import type { ScriptSettings } from "../../store/scripts.js";
import type { ApiServices } from "../services.js";
import { ERROR_CODE_KEYWORD, ScriptParams } from "./schemas.js";

/** The per-script limits, with a coded answer for a limit that only an app can set. */
const CodedScriptLimits = Type.Object(ScriptLimitsOverrideSchema.properties, {
  additionalProperties: false,
  [ERROR_CODE_KEYWORD]: "SCRIPT_SETTINGS_INVALID",
  description: `A script may override ${SCRIPT_LIMITS.join(", ")}; ${APP_WIDE_LIMITS.join(", ")} apply to the whole app.`,
});
const SettingsBody = Type.Object(
  { strict: Type.Optional(Type.Boolean()), limits: Type.Optional(CodedScriptLimits) },
  { additionalProperties: false },
);

const Source = Type.Union([Type.Literal("server"), Type.Literal("app"), Type.Literal("script")], {
  description: "Where the value comes from: the server's defaults, the app's settings or the script's own",
});
const EffectiveLimit = Type.Object({ value: Type.Integer(), source: Source });
const ScriptSettingsView = Type.Object({
  app: Type.String(),
  script: Type.String(),
  /** The script's own overrides. */
  settings: SettingsBody,
  effective: Type.Object({
    strict: Type.Object({ value: Type.Boolean(), source: Source }),
    limits: Type.Object(Object.fromEntries(Object.keys(LIMIT_BOUNDS).map((name) => [name, EffectiveLimit]))),
  }),
});

export async function scriptSettingsRoutes(
  scope: FastifyInstance,
  services: Pick<ApiServices, "apps" | "config" | "control" | "scripts">,
): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();

  const view = async (app: string, script: string, settings: ScriptSettings) => {
    const appRow = await services.apps.require(app);
    const resolved = effectiveSettings(services.config.limits, appRow.settings, settings);
    return {
      app,
      script,
      settings,
      effective: {
        strict: { value: resolved.strict, source: resolved.sources.strict },
        limits: Object.fromEntries(
          Object.entries(resolved.limits).map(([name, value]) => [
            name,
            { value, source: resolved.sources.limits[name as keyof typeof resolved.limits] },
          ]),
        ),
      },
    };
  };

  api.get(
    "/apps/:app/scripts/:name/settings",
    {
      schema: {
        tags: ["scripts"],
        summary: "A script's own settings and the effective value of each (server defaults < app < script)",
        params: ScriptParams,
        response: { 200: ScriptSettingsView },
      },
    },
    async (request) => {
      const { app, name } = request.params;
      await services.apps.require(app);
      return view(app, name, await services.scripts.settings(app, name));
    },
  );

  api.put(
    "/apps/:app/scripts/:name/settings",
    {
      schema: {
        tags: ["scripts"],
        summary: "Replace a script's own settings (strict mode and per-run limits); what it leaves out comes from the app",
        params: ScriptParams,
        body: Type.Object({ settings: SettingsBody }, { additionalProperties: false }),
        response: { 200: ScriptSettingsView },
      },
    },
    async (request) => {
      const { app, name } = request.params;
      return view(app, name, await services.control.updateScriptSettings(app, name, request.body.settings));
    },
  );
}
