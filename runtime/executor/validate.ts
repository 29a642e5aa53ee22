// A deploy's check, as Cloudflare checks a Worker at upload: the module's top level runs once in a fresh
// sandbox on an executor worker thread, under the app's limits, and the default export must be a handler
// (a function, or an object with fetch() or scheduled()). Host calls are not served while a module
// loads (they reject with SDK_UNAVAILABLE, as at run time), so the check never touches an app's data.
import { type ERROR_CODES, PiCloudError } from "../shared/errors.js";
import type { Limits } from "../shared/limits.js";
import type { Executor } from "./executor.js";
import type { ExportKind } from "./sandbox-instance.js";

const HANDLERS: ReadonlySet<ExportKind> = new Set(["function", "fetch", "scheduled"]);
/**
 * The outcome codes that mean the executor could not run the check (a system fault, answered as is).
 * Any other code is the module's doing: a top level may throw an error carrying any code, even
 * DATABASE_UNAVAILABLE (guest-errors.ts propagates it as a run's outcome), and that is SCRIPT_INIT_FAILED.
 */
const CHECK_NOT_RUN: ReadonlySet<string> = new Set([
  "OVERLOADED",
  "EXECUTOR_UNAVAILABLE",
  "ENGINE_FAULT",
] satisfies (keyof typeof ERROR_CODES)[]);

/** Describes a default export that is no handler, for the error message. */
function describe(kind: ExportKind): string {
  if (kind === "object") return "an object without a fetch() or scheduled() method";
  if (kind === "undefined" || kind === "null") return kind;
  if (kind === "class") return "a class, which is not a handler (a class constructor cannot be called without new)";
  return `a ${kind}`;
}

/**
 * Loads `source` (compiled) as `app`/`script` would run under `limits`; resolves when its default
 * export is a handler (a class is not: no call can run it). Refuses with SCRIPT_BAD_DEFAULT_EXPORT when
 * it is not, SCRIPT_INIT_FAILED when the top-level code throws or exceeds a limit (the underlying code as
 * `reason`, with its line), and the executor's own code (CHECK_NOT_RUN) when the check could not run.
 */
export async function validateScript(
  executor: Executor,
  script: { readonly app: string; readonly name: string; readonly source: string; readonly limits: Limits },
): Promise<void> {
  const outcome = await executor.invoke(
    {
      app: script.app,
      script: script.name,
      version: 0,
      revision: "deploy-check",
      source: script.source,
      context: { app: script.app, script: script.name },
      limits: script.limits,
      strict: true,
      trigger: "test",
      validate: true,
    },
    // Never called: a module's load has no host to call (sandbox-instance.ts onHostCall).
    () => Promise.reject(new PiCloudError("EXECUTOR_UNAVAILABLE", "Host calls are not served while a deploy checks a script.")),
  );
  if (outcome.ok) {
    const kind = JSON.parse(outcome.resultJson ?? '"undefined"') as ExportKind;
    if (HANDLERS.has(kind)) return;
    throw new PiCloudError(
      "SCRIPT_BAD_DEFAULT_EXPORT",
      `The default export is ${describe(kind)}: export a handler function (export default async function (ctx) { ... }) or an object with a fetch(request, env, ctx) method.`,
      { details: { exportKind: kind } },
    );
  }
  const { code, message, line, column } = outcome.error;
  if (CHECK_NOT_RUN.has(code)) throw new PiCloudError(code as keyof typeof ERROR_CODES, message);
  const where = line === undefined ? "" : ` (line ${line}${column === undefined ? "" : `, column ${column}`})`;
  throw new PiCloudError("SCRIPT_INIT_FAILED", `The script's top-level code failed when the deploy ran it: ${message}${where} [${code}]`, {
    details: { reason: code, ...(line !== undefined && { line }), ...(column !== undefined && { column }) },
  });
}
