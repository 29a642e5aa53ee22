// fastify gives every request a child logger bound to its request id. pino's `child` costs about a
// microsecond on the main thread (measured), per request, and the hot path never logs: request
// logging is off and a successful script run writes no log line. This child is made on the first
// line logged; until then a request holds only its parent and bindings.
import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions } from "pino";

type Level = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

export class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** The real child, made once. */
  private get real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  fatal(...args: unknown[]): void {
    this.log("fatal", args);
  }
  error(...args: unknown[]): void {
    this.log("error", args);
  }
  warn(...args: unknown[]): void {
    this.log("warn", args);
  }
  info(...args: unknown[]): void {
    this.log("info", args);
  }
  debug(...args: unknown[]): void {
    this.log("debug", args);
  }
  trace(...args: unknown[]): void {
    this.log("trace", args);
  }
  silent(): void {}

  private log(level: Level, args: unknown[]): void {
    const real = this.real;
    (real[level] as (...args: unknown[]) => void).apply(real, args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/** fastify's `childLoggerFactory`: a request's logger, made real on its first line. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options);
}
