// HTTP ingress: every deployed script answers at /{app}/{script} and any sub-path, any method.
import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isClosing, setFrontHandler } from "./front-door.js";
import { PiCloudError } from "../shared/errors.js";
import { parseJsonBody } from "../shared/bounded-json.js";
import type { HttpRequestContext, InvokeOutcome } from "../shared/wire.js";
import type { InvocationResult, Invoker } from "./invoker.js";
import { errorResponse, type HttpResponse, JSON_TYPE, TEXT_TYPE } from "./response-mapping.js";
import type { ResolvedScript, ScriptCache } from "./script-cache.js";
import { isolateTenantResponse, TENANT_SANDBOX_HEADERS } from "./tenant-isolation.js";
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

/** The ingress routes' params (`/:app/:script` and `/:app/:script/*`), as fastify's router gives them. */
type IngressParams = { app?: string; script?: string; "*"?: string };
/** What `findRoute` gives: no search params for a URL the router refuses (then the params are empty). */
type RouterMatch = { readonly params: IngressParams; readonly searchParams: Record<string, string | string[]> };
const NO_BODY = { body: null } as const;

/**
 * Whether `url` is `/{app}/{script}`, then the end, `/`, `?` or `#`, with the names as the router gave
 * them: the ingress route's own shape. Another route with `app` and `script` params, or a name written
 * percent-encoded, is left to fastify.
 */
function writtenAsRouted(url: string, app: string, script: string): boolean {
  const scriptAt = app.length + 2;
  const end = scriptAt + script.length;
  if (url.charCodeAt(0) !== 47 || !url.startsWith(app, 1) || url.charCodeAt(scriptAt - 1) !== 47 || !url.startsWith(script, scriptAt))
    return false;
  const next = url.charCodeAt(end);
  return end === url.length || next === 47 || next === 63 || next === 35; // "/", "?", "#"
}

/**
 * `ctx.request` from the raw URL and what fastify's router made of it (the route's params, the parsed
 * query string): the route and the fast path both build it here, so a script sees the same from either.
 */
function requestContext(
  method: string,
  url: string,
  params: IngressParams,
  query: Record<string, string | string[]>,
  headers: IncomingHttpHeaders,
  body: Pick<HttpRequestContext, "body" | "bodyJson" | "rawBody">,
): HttpRequestContext {
  return {
    method,
    path: url.split("?", 1)[0] ?? "/",
    subpath: `/${params["*"] ?? ""}`,
    query,
    headers: headerRecord(headers),
    url,
    ...body,
  };
}

function headerRecord(given: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
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

const CSP_SANDBOX = TENANT_SANDBOX_HEADERS["content-security-policy"];
/** What fastify's `reply.send` gives a bytes body with no content type. */
const OCTET_TYPE = "application/octet-stream";
/** A media type fastify sends as it is (for a string or bytes body), parameters of plain tokens only. */
const PLAIN_MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+(?:; ?[\w!#$%&'*+.^`|~-]+=[\w!#$%&'*+.^`|~-]+)*$/;

/**
 * The content type fastify's `reply.send` sends for a body whose given type is `type`, when the fast
 * path knows it: fastify adds `; charset=utf-8` to a JSON type without a charset and leaves any other
 * valid type alone. Undefined: another JSON-flavoured or an unusual type, which fastify writes.
 */
function sentType(type: string): string | undefined {
  if (type === JSON_TYPE || type === TEXT_TYPE) return type;
  if (type === "application/json") return JSON_TYPE;
  return PLAIN_MEDIA_TYPE.test(type) && !/json/i.test(type) ? type : undefined;
}

/** A run the fast path made whose answer fastify writes (see `fastPath`): its script and how `invoker.run` settled. */
type HandedOn = { readonly target: ResolvedScript } & (
  | { readonly ok: true; readonly result: InvocationResult }
  | { readonly ok: false; readonly error: unknown }
);
const HANDED_ON = Symbol("picloud.handedOn");
type HandedOnRequest = IncomingMessage & { [HANDED_ON]?: HandedOn };

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
      const raw = request.raw as HandedOnRequest;
      const handedOn = raw[HANDED_ON];
      raw[HANDED_ON] = undefined;
      const { app, script } = request.params;
      // Names that cannot exist are not looked up (and never reach the database).
      const target = handedOn
        ? handedOn.target
        : APP_ID.test(app) && SCRIPT_NAME.test(script)
          ? await deps.scripts.get(app, script)
          : undefined;
      if (target && !target.browserSandbox) unsandboxed.add(request);
      if (!target) throw new PiCloudError("SCRIPT_NOT_FOUND", `No script '${script}' in app '${app}'.`);
      if (target.appKey !== null && !keyMatches(request.headers[APP_KEY_HEADER], target.appKey)) {
        throw new PiCloudError("APP_KEY_REQUIRED", `This endpoint requires the app key in the '${APP_KEY_HEADER}' header.`);
      }
      let result: InvocationResult;
      try {
        if (handedOn) {
          if (!handedOn.ok) throw handedOn.error;
          result = handedOn.result;
        } else {
          const query = request.query as Record<string, string | string[]>;
          const context = requestContext(request.method, request.url, request.params, query, request.headers, requestBody(request));
          result = await deps.invoker.run(target, { trigger: "http", request: context });
        }
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

  const identity = deps.identity;
  /**
   * Writes a run's answer without fastify, with the headers `send`, fastify's `reply.send` and the onSend
   * hooks give, in the same order (docs/architecture.md, "A request, end to end"): each step below is
   * one of theirs, on a plain object as fastify's reply keeps them. False: an answer whose bytes only
   * fastify knows (a body with a 204 or 304, a JSON-flavoured content type other than ours): fastify must write it.
   */
  const answer = (request: IncomingMessage, response: ServerResponse, target: ResolvedScript, result: InvocationResult): boolean => {
    const { id, outcome, stored } = result;
    const mapped = outcome.ok ? (result.response ?? NO_CONTENT) : errorResponse(outcome.error, id);
    const { status, body } = mapped;
    if (body !== null && (status === 204 || status === 304)) return false;
    // send(): the queue time, the script's headers, the run's.
    const headers: Record<string, string> = {};
    if (outcome.queuedMs !== undefined) {
      headers["server-timing"] = `queue;dur=${outcome.queuedMs.toFixed(1)}, run;dur=${outcome.durationMs.toFixed(1)}`;
    }
    const own = mapped.headers;
    for (const name in own) headers[name] = own[name] as string;
    headers["x-picloud-invocation"] = id;
    headers["x-picloud-record"] = stored ? "full" : "aggregate";
    // reply.send(body): a body's content type, given or defaulted.
    if (body !== null) {
      const type = headers["content-type"];
      if (type === undefined) headers["content-type"] = typeof body === "string" ? TEXT_TYPE : OCTET_TYPE;
      else {
        // A bytes body's valid type is sent as given (fastify adds a charset to strings only); an unusual one is fastify's to write.
        const sent = typeof body === "string" ? sentType(type) : PLAIN_MEDIA_TYPE.test(type) ? type : undefined;
        if (sent === undefined) return false;
        headers["content-type"] = sent;
      }
    }
    // The onSend hooks: every answer's (http-app.ts), then the ingress scope's (isolateTenantResponse).
    headers["x-content-type-options"] = "nosniff";
    if (isClosing(app)) headers.connection = "close";
    if (identity) headers[NODE_HEADER] = identity.name;
    if (target.browserSandbox) {
      const csp = headers["content-security-policy"];
      headers["content-security-policy"] = csp !== undefined && csp !== "" ? `${csp}, ${CSP_SANDBOX}` : CSP_SANDBOX;
      delete headers["set-cookie"];
    }
    // fastify's onSendEnd: the length.
    if (body !== null) headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.length);
    else if (status !== 204 && status !== 304 && request.method !== "HEAD") headers["content-length"] = "0";
    response.writeHead(status, headers);
    response.end(body ?? undefined);
    return true;
  };

  /**
   * The script endpoints' fast path, in front of fastify's router, hooks and reply (a hello request's
   * server CPU 43 -> 35 us, docs/architecture.md): a bodyless GET or HEAD that fastify's router gives
   * the ingress route, to a script already in the cache, with its app key if it has one. It builds the
   * same `ctx.request` the route would (`requestContext`, from the router's own params and query) and
   * runs the script; an answer it does not write itself byte for byte (`answer`), and any error
   * (OVERLOADED included), goes through fastify's route with the run's result attached, so it gets the
   * usual reply, hooks and error handler. Everything else is fastify's from the start.
   */
  const fastPath = (
    request: IncomingMessage,
    response: ServerResponse,
    fastify: (request: IncomingMessage, response: ServerResponse) => void,
  ): boolean => {
    const { method, url, headers } = request;
    if ((method !== "GET" && method !== "HEAD") || url === undefined) return false;
    if (headers["content-length"] !== undefined || headers["transfer-encoding"] !== undefined) return false;
    // fastify's own router, with the route's params and the query its parser makes of the query
    // string (find-my-way, fast-querystring): what the route gives the script, by construction. A
    // URL the router refuses (bad percent-encoding, an overlong param) or gives another route is fastify's.
    const found = app.findRoute({ method, url }) as RouterMatch | null;
    if (found === null) return false;
    const { params } = found;
    const { app: appId, script } = params;
    if (appId === undefined || script === undefined || !writtenAsRouted(url, appId, script)) return false;
    const target = deps.scripts.peek(appId, script);
    if (!target) return false;
    if (target.appKey !== null && !keyMatches(headers[APP_KEY_HEADER], target.appKey)) return false;
    const context = requestContext(method, url, params, found.searchParams, headers, NO_BODY);
    const handOn = (handedOn: HandedOn) => {
      (request as HandedOnRequest)[HANDED_ON] = handedOn;
      try {
        fastify(request, response);
      } catch (error) {
        // Nothing may escape into the run's promise chain (an unhandled rejection ends the process).
        app.log.error({ err: error }, "a request handed on to fastify failed");
        response.destroy();
      }
    };
    deps.invoker.run(target, { trigger: "http", request: context }).then(
      (result) => {
        let written = false;
        try {
          written = answer(request, response, target, result);
        } catch (error) {
          // Half written: nothing can be answered on this connection any more. Else fastify answers.
          if (response.headersSent) {
            app.log.error({ err: error }, "writing a script's answer failed");
            response.destroy();
            return;
          }
        }
        if (!written) handOn({ target, ok: true, result });
      },
      (error: unknown) => handOn({ target, ok: false, error }),
    );
    return true;
  };
  setFrontHandler(app, fastPath);
}
