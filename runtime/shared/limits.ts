// Per-invocation resource limits: defaults, bounds, and the per-app and per-script overrides.
import { Type, type Static } from "typebox";
import { APP_WIDE_LIMITS, LIMIT_BOUNDS, SCRIPT_LIMITS } from "./limit-bounds.js";

export { APP_WIDE_LIMITS, LIMIT_BOUNDS, SCRIPT_LIMITS };

export type LimitName = keyof typeof LIMIT_BOUNDS;
export type Limits = { readonly [K in LimitName]: number };

function limitSchema(name: LimitName, description: string) {
  const { min, max } = LIMIT_BOUNDS[name];
  return Type.Integer({ minimum: min, maximum: max, description });
}

export const LimitsOverrideSchema = Type.Object(
  {
    memoryMiB: Type.Optional(limitSchema("memoryMiB", "WASM memory cap of the app's sandbox module, in MiB")),
    cpuMs: Type.Optional(limitSchema("cpuMs", "CPU time per invocation, in ms")),
    wallMs: Type.Optional(limitSchema("wallMs", "Wall time per invocation, including awaited SDK calls, in ms")),
    stackKiB: Type.Optional(limitSchema("stackKiB", "Sandbox stack size, in KiB")),
    responseBytes: Type.Optional(limitSchema("responseBytes", "Maximum serialised response size, in bytes")),
    logBytes: Type.Optional(limitSchema("logBytes", "Maximum captured console output per invocation, in bytes")),
    fetchRequests: Type.Optional(
      limitSchema("fetchRequests", "Outbound fetch requests per invocation (redirects included in the one call)"),
    ),
    fetchResponseBytes: Type.Optional(limitSchema("fetchResponseBytes", "Maximum size of one outbound response body, in bytes")),
    fetchTimeoutMs: Type.Optional(
      limitSchema("fetchTimeoutMs", "Timeout of one outbound request, in ms (never past the invocation's wall time)"),
    ),
    concurrency: Type.Optional(limitSchema("concurrency", "Invocations of the app running at once on one server")),
    queue: Type.Optional(limitSchema("queue", "Invocations of the app waiting for an executor on one server; more get 503 OVERLOADED")),
  },
  { additionalProperties: false },
);
export type LimitsOverride = Static<typeof LimitsOverrideSchema>;

const perRun = LimitsOverrideSchema.properties;
/** What one script may override: every limit except the app-wide ones (APP_WIDE_LIMITS). */
export const ScriptLimitsOverrideSchema = Type.Object(
  {
    cpuMs: perRun.cpuMs,
    wallMs: perRun.wallMs,
    stackKiB: perRun.stackKiB,
    responseBytes: perRun.responseBytes,
    logBytes: perRun.logBytes,
    fetchRequests: perRun.fetchRequests,
    fetchResponseBytes: perRun.fetchResponseBytes,
    fetchTimeoutMs: perRun.fetchTimeoutMs,
  },
  { additionalProperties: false },
);
export type ScriptLimitsOverride = Static<typeof ScriptLimitsOverrideSchema>;

export const DEFAULT_LIMITS: Limits = Object.freeze(
  Object.fromEntries(Object.entries(LIMIT_BOUNDS).map(([name, bound]) => [name, bound.default])) as Limits,
);

export function resolveLimits(base: Limits, override: LimitsOverride | undefined): Limits {
  return Object.freeze({ ...base, ...override });
}
