// HTTP ingress: every deployed script answers at /{app}/{script} and any sub-path, any method.
import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { PiCloudError } from "../shared/errors.js";
import { parseJsonBody } from "../shared/bounded-json.js";
import type { HttpRequestContext, InvokeOutcome } from "../shared/wire.js";
import type { InvocationResult, Invoker } from "./invoker.js";
import { errorResponse, type HttpResponse } from "./response-mapping.js";
import type { ScriptCache } from "./script-cache.js";
import { isolateTenantResponse } from "./tenant-isolation.js";
import { APP_ID_PATTERN, SCRIPT_NAME_PATTERN } from "../shared/ids.js";

export interface IngressDeps {
  readonly scripts: ScriptCache;
  readonly invoker: Invoker;
  readonly bodyLimitBytes: number;
  /** The node that runs the scripts, named on every answer (`x-picloud-node`); its name may be set after start. */
  readonly identity?: { readonly name: string } | undefined;
}

/** The header naming the node that answered (load-balancer debugging, cluster tests). */
export const NODE_HEADER = "x-picloud-node";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const APP_KEY_HEADER = "x-picloud-app-key";
const APP_ID = new RegExp(APP_ID_PATTERN);
const SCRIPT_NAME = new RegExp(SCRIPT_NAME_PATTERN);
const NO_CONTENT: HttpResponse = { status: 204, headers: {}, body: null };

/**
 * The body as the script sees it. JSON is validated here (malformed JSON gets a coded error) but
 * travels as its text: the guest parses it on first access, and a Workers-style handler reads the exact text.
 */
function requestBody(request: FastifyRequest): Pick<HttpRequestContext, "body" | "bodyJson" | "rawBody"> {
  const raw = request.body as Buffer | undefined;
  if (!raw || raw.length === 0) return { body: null };
  const type = request.headers["content-type"] ?? "";
  const text = raw.toString("utf8");
  if (/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    // Depth-bounded: nothing downstream (the guest's parser, JSON.stringify) meets a 100,000-deep body.
    parseJsonBody(text);
    return { body: null, bodyJson: true, rawBody: text };
  }
  return { body: text };
}

function headerRecord(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  const given = request.headers;
  for (const name in given) {
    const value = given[name];
    if (value !== undefined) headers[name] = typeof value === "string" ? value : value.join(", ");
  }
  return headers;
}

function keyMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `x-picloud-record` says whether `GET /api/v1/invocations/{id}` finds this run ("full") or not ("aggregate"). */
function send(reply: FastifyReply, response: HttpResponse, invocationId: string, stored: boolean, outcome: InvokeOutcome): void {
  // Queue time is not run time: the wait for a free executor is reported beside the run's duration.
  if (outcome.queuedMs !== undefined) {
    reply.header("server-timing", `queue;dur=${outcome.queuedMs.toFixed(1)}, run;dur=${outcome.durationMs.toFixed(1)}`);
  }
  reply.code(response.status).headers(response.headers);
  reply.header("x-picloud-invocation", invocationId);
  reply.header("x-picloud-record", stored ? "full" : "aggregate");
  // Sent from here, not returned: an async handler that returns the reply makes the promise adopt
  // it as a thenable, one more job per request.
  reply.send(response.body ?? undefined);
}

export async function registerIngress(app: FastifyInstance, deps: IngressDeps): Promise<void> {
  await app.register(async (scope) => {
    // Script endpoints take any body; it is parsed here so malformed JSON gets a coded error.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: deps.bodyLimitBytes }, (_request, body, done) => done(null, body));
    // Requests whose app opted out of the browser sandbox; every other answer here is sandboxed.
    const unsandboxed = new WeakSet<FastifyRequest>();
    const identity = deps.identity;
    // One callback-style hook for every answer of this scope, errors and 404s included: an async
    // hook would cost a promise and a microtask per request.
    scope.addHook("onSend", (request, reply, payload, done) => {
      if (identity) reply.header(NODE_HEADER, identity.name);
      isolateTenantResponse(reply, !unsandboxed.has(request));
      done(null, payload);
    });

    const handle = async (request: FastifyRequest<{ Params: { app: string; script: string; "*"?: string } }>, reply: FastifyReply) => {
      const { app, script } = request.params;
      // Names that cannot exist are not looked up (and never reach the database).
      const target = APP_ID.test(app) && SCRIPT_NAME.test(script) ? await deps.scripts.get(app, script) : undefined;
      if (target && !target.browserSandbox) unsandboxed.add(request);
      if (!target) throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${script}' in app '${app}'.`);
      if (target.appKey !== null && !keyMatches(request.headers[APP_KEY_HEADER], target.appKey)) {
        throw new PiCloudError("APP_KEY_REQUIRED", `This endpoint requires the app key in the '${APP_KEY_HEADER}' header.`);
      }
      const path = request.url.split("?", 1)[0] ?? "/";
      const context: HttpRequestContext = {
        method: request.method,
        path,
        subpath: `/${request.params["*"] ?? ""}`,
        query: request.query as Record<string, string | string[]>,
        headers: headerRecord(request),
        url: request.url,
        ...requestBody(request),
      };
      let result: InvocationResult;
      try {
        result = await deps.invoker.run(target, { trigger: "http", request: context });
      } catch (error) {
        // Refused before it ran (no invocation exists): tell the client when to come back.
        if (error instanceof PiCloudError && error.code === "OVERLOADED") {
          reply
            .code(error.status)
            .header("retry-after", String(error.details?.retryAfter ?? 1))
            .send({ error: error.toJSON() });
          return;
        }
        throw error;
      }
      const { id, outcome, response, stored } = result;
      send(reply, outcome.ok ? (response ?? NO_CONTENT) : errorResponse(outcome.error, id), id, stored, outcome);
    };

    scope.route({ method: [...METHODS], url: "/:app/:script", handler: handle });
    scope.route({ method: [...METHODS], url: "/:app/:script/*", handler: handle });
  });
}
