// A live stream (Server-Sent Events) of invocations and event state changes, for the UI and
// `picloud events tail`. EventSource cannot send headers, so the token may come as ?access_token=.
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { ApiServices } from "../services.js";

const HEARTBEAT_MS = 15_000;

export async function streamRoutes(scope: FastifyInstance, services: ApiServices): Promise<void> {
  scope.get(
    "/stream",
    {
      schema: {
        tags: ["events"],
        summary: "Server-Sent Events: 'invocation' and 'event' messages, optionally for one app",
        querystring: Type.Object({ app: Type.Optional(Type.String()), access_token: Type.Optional(Type.String()) }),
      },
    },
    (request, reply) => {
      const { app } = request.query as { app?: string };
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      out.write(": connected\n\n");
      const send = (type: string, data: unknown) => out.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
      const unsubscribeInvocations = services.recorder.subscribe((record, stored) => {
        if (!app || record.app === app) send("invocation", { ...record, stored });
      });
      const unsubscribeEvents = services.dispatcher.subscribe(({ event, status, deadLetterId }) => {
        if (!app || event.app === app) {
          send("event", {
            id: event.id,
            app: event.app,
            script: event.script,
            kind: event.kind,
            status,
            attempt: event.attempts,
            deadLetterId: deadLetterId ?? null,
          });
        }
      });
      const heartbeat = setInterval(() => out.write(": ping\n\n"), HEARTBEAT_MS);
      const close = () => {
        clearInterval(heartbeat);
        unsubscribeInvocations();
        unsubscribeEvents();
      };
      request.raw.on("close", close);
      // Let a shutting-down server finish: end open streams when it closes.
      scope.server.once("close", () => out.end());
    },
  );
}
