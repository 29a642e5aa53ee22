// A request's logger is made on its first line, and logs like the child fastify would have made.
import { Writable } from "node:stream";
import Fastify, { type FastifyBaseLogger, LogController } from "fastify";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { installErrorHandling } from "./error-handler.js";
import { LazyRequestLogger, lazyChildLogger } from "./lazy-request-logger.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, stream) };
}

describe("the lazy request logger", () => {
  it("makes its child only when a line is logged, with the request's bindings", () => {
    const { lines, logger } = capture();
    let children = 0;
    const parent = new Proxy(logger, {
      get(target, key, receiver) {
        if (key === "child") {
          return (...args: Parameters<typeof logger.child>) => {
            children++;
            return target.child(...args);
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const quiet = new LazyRequestLogger(parent as FastifyBaseLogger, { reqId: "req-0" }, {});
    expect(quiet.level).toBe("info");
    expect(children).toBe(0);
    const lazy = new LazyRequestLogger(parent as FastifyBaseLogger, { reqId: "req-1" }, {});
    lazy.error({ err: new Error("boom") }, "failed");
    lazy.debug("below the level");
    lazy.child({ step: "x" }).warn("nested");
    expect(children).toBe(1);
    expect(lines).toMatchObject([
      { level: 50, reqId: "req-1", msg: "failed", err: { message: "boom" } },
      { level: 40, reqId: "req-1", step: "x", msg: "nested" },
    ]);
  });

  it("the unhandled-error line still names the request", async () => {
    const { lines, logger } = capture();
    const app = Fastify({
      loggerInstance: logger as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      childLoggerFactory: lazyChildLogger,
    });
    installErrorHandling(app);
    app.get("/boom", async (request) => {
      request.log.warn("about to fail");
      throw new Error("boom");
    });
    const response = await app.inject({ method: "GET", url: "/boom" });
    expect(response.statusCode).toBe(500);
    expect(lines.map((line) => [line.msg, typeof line.reqId])).toEqual([
      ["about to fail", "string"],
      ["unhandled error", "string"],
    ]);
    await app.close();
  });
});
