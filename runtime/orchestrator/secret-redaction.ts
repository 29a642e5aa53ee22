// Secret values never leave an invocation in its logs or errors: every occurrence (as written, and
// as JSON would escape it) is replaced with [secret:NAME] before the outcome is recorded or answered.
import type { InvokeOutcome } from "../shared/wire.js";
import type { LogLine } from "../store/invocations.js";

/** Values shorter than this are too likely to collide with ordinary text to be masked usefully. */
const MIN_REDACTED_LENGTH = 3;

type Redactor = (text: string) => string;

/** Per env object: the app-bindings cache hands out one frozen env per app, so each run of the app finds its redactor here. */
const redactors = new WeakMap<object, Redactor | null>();

/** A function that masks the env's secret values, or undefined when there is nothing to mask. */
export function secretRedactor(env: Readonly<Record<string, string>>): Redactor | undefined {
  const known = redactors.get(env);
  if (known !== undefined) return known ?? undefined;
  const made = buildRedactor(env);
  // Only a frozen env cannot change under the cached redactor.
  if (Object.isFrozen(env)) redactors.set(env, made ?? null);
  return made;
}

function buildRedactor(env: Readonly<Record<string, string>>): Redactor | undefined {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value.length < MIN_REDACTED_LENGTH) continue;
    pairs.push([value, `[secret:${name}]`]);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) pairs.push([escaped, `[secret:${name}]`]);
  }
  if (pairs.length === 0) return undefined;
  // Longest first, so a secret that contains another is masked whole.
  pairs.sort((a, b) => b[0].length - a[0].length);
  return (text) => {
    let out = text;
    for (const [value, mask] of pairs) if (out.includes(value)) out = out.split(value).join(mask);
    return out;
  };
}

export function redactOutcome(outcome: InvokeOutcome, redact: (text: string) => string): InvokeOutcome {
  const logs: LogLine[] = outcome.logs.map((line) => ({ ...line, message: redact(line.message) }));
  if (outcome.ok) return { ...outcome, logs };
  const { error } = outcome;
  return {
    ...outcome,
    logs,
    error: { ...error, message: redact(error.message), ...(error.stack !== undefined && { stack: redact(error.stack) }) },
  };
}
