// Turns what a guest threw into a coded invocation error, and says whether the sandbox survives it.
import type { GuestResponse } from "../shared/wire.js";
import type { InvocationError, LogLine } from "../store/invocations.js";

/** Codes of binding errors that, uncaught, fail the invocation with that code rather than SCRIPT_ERROR. */
const PROPAGATED_CODES = new Set([
  "DATABASE_UNAVAILABLE",
  "FETCH_DENIED",
  "FETCH_TIMEOUT",
  "FETCH_TOO_LARGE",
  "FETCH_LIMIT",
  "FETCH_FAILED",
  "FETCH_INVALID",
]);

export interface GuestError {
  name?: string;
  message?: string;
  code?: string;
  stack?: string;
}

export interface RawOutcome {
  readonly ok: boolean;
  readonly resultJson?: string | undefined;
  /** A Response object the handler returned (instead of resultJson). */
  readonly response?: GuestResponse | undefined;
  readonly error?: InvocationError;
  readonly logs: LogLine[];
  /** The instance must not serve again (limit violation or engine fault). */
  readonly discard: boolean;
  /** The whole engine module must be retired (out of memory or an engine abort). */
  readonly retireModule: boolean;
  /** Time the worker thread spent on this run: guest code, and loading the sandbox when it was new. */
  readonly cpuMs?: number;
}

export function classifyGuestError(error: GuestError, logs: LogLine[], fileName: string): RawOutcome {
  const message = String(error.message ?? "");
  const position = scriptPosition(fileName, error.stack);
  // An interrupt or an allocation failure can strike anywhere, and QuickJS then reports the
  // enclosing function's position, not the running line: say no line rather than a wrong one.
  const limit = (code: string, text: string, retireModule = false, where: { line?: number; column?: number } = {}): RawOutcome => ({
    ok: false,
    error: { code, message: text, ...where },
    logs,
    discard: true,
    retireModule,
  });
  if (error.name === "InternalError" && message === "interrupted") {
    return limit("SCRIPT_TIMEOUT", "The script exceeded its CPU time limit.");
  }
  if (message === "out of memory" || /memory access out of bounds|Cannot allocate/i.test(message)) {
    return limit("SCRIPT_MEMORY", "The script exceeded its memory limit.", true);
  }
  if (error.name === "InternalError" && message === "stack overflow") {
    return limit("SCRIPT_STACK", "The script exceeded its stack depth limit.", false, position);
  }
  if (error.code === "SCRIPT_NO_HANDLER" || error.code === "SCRIPT_BAD_RESPONSE") {
    return { ok: false, error: { code: error.code, message, ...position }, logs, discard: false, retireModule: false };
  }
  if (error.code !== undefined && PROPAGATED_CODES.has(error.code)) {
    return {
      ok: false,
      error: { code: error.code, message: message.slice(0, 4096), ...position, stack: scriptStack(fileName, error.stack) },
      logs,
      discard: false,
      retireModule: false,
    };
  }
  const name = error.name ?? "Error";
  const tag = error.code ? `${name} [${error.code}]` : name;
  return {
    ok: false,
    error: {
      code: "SCRIPT_ERROR",
      message: `${tag}: ${message}`.slice(0, 4096),
      ...position,
      stack: scriptStack(fileName, error.stack),
      ...(name === "NonRetriableError" && { retriable: false }),
    },
    logs,
    discard: false,
    retireModule: false,
  };
}

/** Line and column of the innermost frame inside the script itself. */
function scriptPosition(fileName: string, stack: string | undefined): { line?: number; column?: number } {
  const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = stack?.match(new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`));
  if (!match) return {};
  return { line: Number(match[1]), ...(match[2] ? { column: Number(match[2]) } : {}) };
}

/** Only the script's own frames: never the prelude's. */
function scriptStack(fileName: string, stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const frames = stack.split("\n").filter((line) => line.includes(fileName));
  return frames.length > 0
    ? frames
        .map((f) => f.trim())
        .join("\n")
        .slice(0, 4096)
    : undefined;
}

/** The engine itself threw (WASM abort, poisoned module): nothing in that module can be trusted. */
export function engineFault(error: unknown): RawOutcome {
  return {
    ok: false,
    error: { code: "ENGINE_FAULT", message: `The script engine failed: ${String((error as Error)?.message ?? error).slice(0, 200)}` },
    logs: [],
    discard: true,
    retireModule: true,
  };
}
