import { pino, type Logger } from "pino";

export type { Logger };

/** Logs go to stderr so stdout stays for what a command prints (URLs, tokens, --json output). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "picloud" } }, pino.destination(2));
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
