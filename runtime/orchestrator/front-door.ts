// The front door of a process's HTTP server: a role's fast path (the node's ingress) is tried before
// fastify's router for every request; buildHttpApp (manager/http-app.ts) installs it on each app.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A role's fast path, tried before fastify's router for every request while the server is not
 * closing. It returns false to leave the request to fastify; once it returns true it owns the
 * request and must answer it: itself, or by handing it to `fastify` later (fastify then answers it as
 * if it had just arrived, except that a server closing meanwhile does not refuse it: it has run).
 */
export type FrontHandler = (request: IncomingMessage, response: ServerResponse, fastify: RequestListener) => boolean;

export interface FrontDoor {
  /** Set when close() starts: answers say "Connection: close", new requests are refused SHUTTING_DOWN. */
  closing: boolean;
  handler: FrontHandler | undefined;
  /** Requests the fast path took and handed on to fastify: admitted already, even if the server is closing now. */
  readonly handedOn: WeakSet<IncomingMessage>;
}

/** By server, so any encapsulated instance of the app finds it. */
const frontDoors = new WeakMap<object, FrontDoor>();

/** Installs `app`'s fast path; false when the app was not made by buildHttpApp (then fastify takes every request). */
export function setFrontHandler(app: FastifyInstance, handler: FrontHandler): boolean {
  const door = frontDoors.get(app.server);
  if (door) door.handler = handler;
  return door !== undefined;
}

/** Whether the app is draining for shutdown (its answers carry "Connection: close"). */
export const isClosing = (app: FastifyInstance): boolean => frontDoors.get(app.server)?.closing === true;

/** Puts the front door before fastify's own request listener (fastify adds exactly one, when the server is made). */
export function installFrontDoor(app: FastifyInstance): FrontDoor {
  const door: FrontDoor = { closing: false, handler: undefined, handedOn: new WeakSet() };
  const [routing] = app.server.listeners("request") as RequestListener[];
  if (!routing) return door;
  const handOn: RequestListener = (request, response) => {
    door.handedOn.add(request);
    routing(request, response);
  };
  app.server.removeListener("request", routing);
  app.server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const { handler } = door;
    let taken = false;
    if (handler !== undefined && !door.closing) {
      try {
        taken = handler(request, response, handOn);
      } catch (error) {
        // A fast path that fails before taking the request leaves it to fastify (a throw here would end the process).
        app.log.error({ err: error }, "a fast path failed; fastify answers the request");
      }
    }
    if (!taken) routing(request, response);
  });
  frontDoors.set(app.server, door);
  return door;
}
