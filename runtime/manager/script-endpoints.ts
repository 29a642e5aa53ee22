// The URL of a script endpoint, as the admin API hands it out (`picloud deploy` prints it). `serve`
// serves scripts itself, so its own address is right. A manager alone does not serve them (the
// nodes do): reached through a front door (Caddy routes /{app}/{script} to the nodes) the address
// the caller used is still right; reached directly, its own address would answer 404, so a node's
// address is given instead, or, with no node up, the caller is told the nodes will serve it.
import type { FastifyRequest } from "fastify";
import type { NodeStore } from "../store/nodes.js";

/**
 * `this-server`: the process that answered serves scripts; `front-door`: the address the caller used
 * (a proxy routes scripts to the nodes); `node`: the address of a node that is up; `no-node-up`: no
 * node is up yet, the URL is the address the caller used and scripts answer there once a front door
 * routes them to nodes.
 */
export type ServedBy = "this-server" | "front-door" | "node" | "no-node-up";

export interface EndpointBase {
  /** `scheme://host[:port]`, without a trailing slash. */
  readonly base: string;
  readonly servedBy: ServedBy;
}

export interface ScriptEndpoints {
  base(request: FastifyRequest): Promise<EndpointBase>;
}

/** Headers a reverse proxy adds (the shipped Caddyfile sets X-Real-IP; Caddy always sets X-Forwarded-For). */
const PROXY_HEADERS = ["x-forwarded-for", "x-real-ip", "forwarded", "via"] as const;

function callerBase(request: FastifyRequest): string {
  const forwarded = request.headers["x-forwarded-proto"];
  const proto = typeof forwarded === "string" ? forwarded.split(",")[0]?.trim() : undefined;
  return `${proto === "https" || proto === "http" ? proto : request.protocol}://${request.host}`;
}

export function scriptEndpoints(servesScripts: boolean, nodes: Pick<NodeStore, "list">): ScriptEndpoints {
  return {
    async base(request) {
      if (servesScripts) return { base: callerBase(request), servedBy: "this-server" };
      if (PROXY_HEADERS.some((name) => request.headers[name] !== undefined)) return { base: callerBase(request), servedBy: "front-door" };
      const serving = (await nodes.list()).find((node) => node.status === "up" && node.role !== "manager");
      if (serving) return { base: serving.url.replace(/\/+$/, ""), servedBy: "node" };
      return { base: callerBase(request), servedBy: "no-node-up" };
    },
  };
}

export const endpointUrl = (base: EndpointBase, app: string, name: string): string => `${base.base}/${app}/${name}`;
