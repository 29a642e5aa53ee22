import { pino, type Logger } from "pino";

export type { Logger };

/** Logs go to stderr so stdout stays for what a command prints (URLs, tokens, --json output). */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: "picloud" },
      hooks: {
        // Fastify announces each listening address; the start-up banner already says it, once and readably.
        logMethod(args, method) {
          if (typeof args[0] === "string" && args[0].startsWith("Server listening at ")) return;
          method.apply(this, args);
        },
      },
    },
    pino.destination(2),
  );
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
