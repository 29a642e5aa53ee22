// A live stream (Server-Sent Events) of invocations and event state changes, for the UI and
// `picloud events tail`. EventSource cannot send headers, so the token may come as ?access_token=.
// Each client has a bounded send buffer: while it is full, messages for that client are skipped;
// once it drains the client is told how many it missed (`event: dropped`). A client that does not
// read at all for STALL_LIMIT_MS is disconnected. Memory per client stays near the bound.
import type { ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { ApiServices } from "../services.js";
import { InvocationSchema } from "./invocations.js";
import { AppId, EventKindSchema, EventStatusSchema, Nullable, Text } from "./schemas.js";

/**
 * Each message type's `data`, by the SSE `event:` field that names it. Described in the OpenAPI
 * document as the stream's schema, so clients (the UI, `picloud events tail`, outside tools) get
 * generated types; `send` below is checked against it.
 */
export const StreamMessagesSchema = Type.Object(
  {
    invocation: Type.Object(
      {
        ...InvocationSchema.properties,
        stored: Type.Boolean({ description: "Whether the run was stored in full: GET /invocations/{id} resolves only then" }),
      },
      { description: "A run finished (every run, stored or not)" },
    ),
    event: Type.Object(
      {
        id: Type.String(),
        app: Type.String(),
        script: Type.String(),
        kind: EventKindSchema,
        status: EventStatusSchema,
        attempt: Type.Integer({ description: "The attempt this state belongs to (1 for the first)" }),
        deadLetterId: Nullable(Type.String({ description: "Set when the event became a dead letter" })),
      },
      { description: "An event changed state on a node: running, done, pending (a retry is due later), dead or failed" },
    ),
    change: Type.Object(
      {
        method: Type.String(),
        path: Type.String({ description: "The API path below /api/v1, e.g. /apps/web/scripts/greet" }),
        app: Nullable(Type.String()),
      },
      { description: "A control-plane write succeeded through the admin API (from any client)" },
    ),
    dropped: Type.Object(
      {
        reason: Type.Literal("slow-client"),
        skipped: Type.Integer({ description: "Messages skipped while this client's buffer was full" }),
        limit: Type.Integer({ description: "The per-client buffer bound, bytes" }),
      },
      { description: "This client read too slowly and missed messages: refetch what it shows" },
    ),
  },
  { description: "text/event-stream: each message's `event:` field is one of these names and its `data:` the JSON of that shape" },
);
export type StreamMessages = Static<typeof StreamMessagesSchema>;

const HEARTBEAT_MS = 15_000;
/** How long a client may leave a full buffer unread before it is disconnected. */
const STALL_LIMIT_MS = 60_000;

export async function streamRoutes(
  scope: FastifyInstance,
  services: Pick<ApiServices, "config" | "dispatcher" | "recorder">,
): Promise<void> {
  const maxBuffered = services.config.streamBufferBytes;
  const open = new Set<ServerResponse>();
  // Let a shutting-down server finish: end open streams before it waits for connections to close.
  // (One hook for all streams: a listener per connection on the server would leak.)
  scope.addHook("preClose", async () => {
    for (const out of open) out.end();
  });

  scope.get(
    "/stream",
    {
      config: { queryToken: true },
      schema: {
        tags: ["events"],
        summary:
          "Server-Sent Events: 'invocation', 'event' and 'change' (a control-plane write: method, path, app) messages, optionally for one app",
        querystring: Type.Object({ app: Type.Optional(AppId), access_token: Type.Optional(Text()) }),
        response: {
          200: {
            description: "The live stream: 'invocation', 'event', 'change' and, for a too slow client, 'dropped' messages",
            content: { "text/event-stream": { schema: StreamMessagesSchema } },
          },
        },
      },
    },
    (request, reply) => {
      const { app } = request.query as { app?: string };
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        // Headers set by hooks before the hijack (CORS, for dashboards of other origins) still apply.
        ...(reply.getHeaders() as Record<string, string>),
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
        "x-content-type-options": "nosniff",
      });
      out.write(": connected\n\n");
      open.add(out);
      // While the buffer is over the bound: how many messages were skipped, and the stall timer.
      let skipped = 0;
      let stall: NodeJS.Timeout | undefined;
      const drained = () => {
        clearTimeout(stall);
        stall = undefined;
        const dropped: StreamMessages["dropped"] = { reason: "slow-client", skipped, limit: maxBuffered };
        out.write(`event: dropped\ndata: ${JSON.stringify(dropped)}\n\n`);
        skipped = 0;
      };
      const send = <K extends keyof StreamMessages>(type: K, data: StreamMessages[K]) => {
        if (out.writableEnded || out.destroyed) return;
        if (stall || out.writableLength > maxBuffered) {
          if (!stall) {
            request.log.warn({ bufferedBytes: out.writableLength }, "event stream client too slow: skipping messages");
            // The bound is above the stream's high-water mark, so a write has returned false and 'drain' will come.
            out.once("drain", drained);
            stall = setTimeout(() => out.destroy(), STALL_LIMIT_MS);
          }
          skipped++;
          return;
        }
        out.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
      };
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
      const unsubscribeChanges = scope.changeFeed.subscribe((change) => {
        if (!app || change.app === app) send("change", change);
      });
      const heartbeat = setInterval(() => {
        if (!stall) out.write(": ping\n\n");
      }, HEARTBEAT_MS);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        clearTimeout(stall);
        unsubscribeInvocations();
        unsubscribeEvents();
        open.delete(out);
        unsubscribeChanges();
      };
      out.on("close", close);
    },
  );
}
