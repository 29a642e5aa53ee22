// The one typed client of the admin API, shared by the renderer (browser) and the CLI, bench and
// tests (Node): openapi-fetch over the generated types, so a path, its parameters, its body and its
// answer are checked against the route schemas. Every failure becomes an ApiError with a stable code.
// Plain fetch and web streams only: nothing here may need Node or the DOM beyond what both have.
import { createParser } from "eventsource-parser";
import createClient, { type Client, type MaybeOptionalInit } from "openapi-fetch";
import type { paths } from "./api-schema.gen.js";

/** The live stream's messages (`GET /api/v1/stream`): each type's data, by its SSE event name. */
export type StreamMessages = paths["/api/v1/stream"]["get"]["responses"][200]["content"]["text/event-stream"];
/** One message of the live stream, tagged with its type. */
export type StreamMessage = { [K in keyof StreamMessages]: { readonly type: K; readonly data: StreamMessages[K] } }[keyof StreamMessages];
const STREAM_TYPES: ReadonlySet<string> = new Set<keyof StreamMessages>(["invocation", "event", "change", "dropped"]);

/** A failed call: the server's error code and message, or a client-side code (UNREACHABLE, BAD_RESPONSE). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error body's other fields (e.g. a script error's line). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** How a client words the problems its own user can act on (a CLI names flags, the UI the connection). */
export interface ClientMessages {
  /** The request never got an answer; `reason` is the network error's code or message. */
  unreachable(baseUrl: string, reason: string): string;
  /** The answer was not the JSON a PiCloud runtime gives. */
  badResponse(baseUrl: string, status: number): string;
  /** A server error in the caller's terms, or undefined to keep the server's message. */
  serverError?(baseUrl: string, code: string, message: string): string | undefined;
}

const DEFAULT_MESSAGES: ClientMessages = {
  unreachable: (baseUrl) => `Cannot reach ${baseUrl}. Is the runtime running and the URL right?`,
  badResponse: (baseUrl, status) => `${baseUrl} did not answer like a PiCloud runtime (HTTP ${status}).`,
};

export interface ApiClientOptions {
  /** The runtime's base URL (the admin API is under /api/v1). */
  readonly url: string;
  /** The admin token; without one every call but the public ones is a 401. */
  readonly token?: string | undefined;
  readonly messages?: ClientMessages;
}

export type Method = "get" | "put" | "post" | "patch" | "delete";
export type PathsWith<M extends Method> = { [P in keyof paths]: paths[P] extends Record<M, object> ? P : never }[keyof paths];
/** openapi-fetch's rule: the init argument is required exactly when the operation has required parts. */
type InitArgs<Init> = object extends Init ? [init?: Init] : [init: Init];

type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : undefined;
type SuccessOf<Op> = Op extends { responses: infer R }
  ? { [S in keyof R]: S extends 200 | 201 | 202 | 204 ? JsonOf<R[S]> : never }[keyof R]
  : never;
type BodyOf<Op> = Op extends { requestBody?: { content: { "application/json": infer T } } } ? T : never;

/** The parsed JSON answer of a successful call (undefined for a 204). */
export type ApiData<M extends Method, P extends PathsWith<M>> = SuccessOf<paths[P][M]>;
/** The JSON body an operation takes. */
export type ApiBody<M extends Method, P extends PathsWith<M>> = BodyOf<paths[P][M]>;

type Call<M extends Method> = <P extends PathsWith<M>, Init extends MaybeOptionalInit<paths[P], M>>(
  path: P,
  ...init: InitArgs<Init>
) => Promise<ApiData<M, P>>;

/** What openapi-fetch's typed methods are, seen without their types (one untyped core serves them all). */
type UntypedRequest = (
  method: string,
  path: string,
  init: Record<string, unknown>,
) => Promise<{ data?: string; error?: unknown; response: Response }>;

/**
 * @example
 * const api = new PiCloudApi({ url: "http://127.0.0.1:8787", token });
 * const { apps } = await api.GET("/api/v1/apps");
 * await api.PUT("/api/v1/apps/{app}/scripts/{name}", { params: { path: { app: "shop", name: "cart" } }, body: { source } });
 */
export class PiCloudApi {
  readonly baseUrl: string;
  private readonly messages: ClientMessages;
  private readonly raw: Client<paths>;

  readonly GET: Call<"get">;
  readonly PUT: Call<"put">;
  readonly POST: Call<"post">;
  readonly PATCH: Call<"patch">;
  readonly DELETE: Call<"delete">;

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.messages = options.messages ?? DEFAULT_MESSAGES;
    this.raw = createClient<paths>({
      baseUrl: this.baseUrl,
      headers: this.authHeaders(),
      // Resolved per call, so a fetch replaced after construction (tests, polyfills) is the one used.
      fetch: (request) => this.send(request),
    });
    this.GET = this.call("GET");
    this.PUT = this.call("PUT");
    this.POST = this.call("POST");
    this.PATCH = this.call("PATCH");
    this.DELETE = this.call("DELETE");
  }

  /**
   * A call by method and a path under /api/v1 that the compiler does not check, for tests and tools
   * that build paths as data (`api("PUT", `/apps/${app}/kv/c/k`, { value })`). Errors are the same
   * coded ApiErrors; code that can name its path uses GET/PUT/POST/PATCH/DELETE instead.
   */
  async requestUntyped<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.core(method.toUpperCase(), `/api/v1${path}`, body === undefined ? {} : { body })) as T;
  }

  /** The live stream's URL with the token in the query (EventSource cannot send headers). */
  streamUrl(app?: string): string {
    const query = new URLSearchParams({ ...(this.options.token && { access_token: this.options.token }), ...(app && { app }) });
    return `${this.baseUrl}/api/v1/stream?${query}`;
  }

  /** Follows the live stream (Server-Sent Events) until it ends, calling `onMessage` per message. */
  async stream(query: { app?: string }, onMessage: (message: StreamMessage) => void): Promise<void> {
    const search = new URLSearchParams(query.app ? { app: query.app } : {});
    const response = await this.send(new Request(`${this.baseUrl}/api/v1/stream?${search}`, { headers: this.authHeaders() }));
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw this.failure(response.status, parseOr(text, text));
    }
    // The SSE framing (CRLF or LF, multi-line data, comments, retry fields) is eventsource-parser's.
    const parser = createParser({
      onEvent: ({ event, data }) => {
        // Types this client does not know yet (a newer server) are skipped, not misread.
        if (event && data && STREAM_TYPES.has(event)) onMessage({ type: event, data: JSON.parse(data) } as StreamMessage);
      },
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  }

  private authHeaders(): Record<string, string> {
    return this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
  }

  private async send(request: Request): Promise<Response> {
    try {
      return await globalThis.fetch(request);
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ApiError(0, "UNREACHABLE", this.messages.unreachable(this.baseUrl, reason));
    }
  }

  /**
   * The one untyped core under GET/PUT/...: it reads every answer as text, so that JSON it cannot
   * parse becomes a coded BAD_RESPONSE with the HTTP status rather than a bare SyntaxError.
   */
  private async core(method: string, path: string, init: Record<string, unknown> = {}): Promise<unknown> {
    const request = this.raw.request as unknown as UntypedRequest;
    const { data, error, response } = await request(method, path, { ...init, parseAs: "text" });
    if (!response.ok) throw this.failure(response.status, error);
    if (data === undefined || data === "") return undefined;
    const parsed = parseOr(data, BAD);
    if (parsed === BAD) throw new ApiError(response.status, "BAD_RESPONSE", this.messages.badResponse(this.baseUrl, response.status));
    return parsed;
  }

  /** Core calls of one method, typed by the generated paths (the types are all the checking there is). */
  private call<M extends Method>(method: Uppercase<M>): Call<M> {
    return ((path: string, init?: Record<string, unknown>) => this.core(method, path, init)) as Call<M>;
  }

  /** The ApiError for a non-2xx answer whose body openapi-fetch parsed as JSON if it could. */
  private failure(status: number, body: unknown): ApiError {
    if (typeof body !== "object" || body === null) {
      return new ApiError(status, "BAD_RESPONSE", this.messages.badResponse(this.baseUrl, status));
    }
    const error = (body as { error?: { code?: unknown; message?: unknown } & Record<string, unknown> }).error ?? {};
    const { code: rawCode, message: rawMessage, ...details } = error;
    const code = typeof rawCode === "string" ? rawCode : "HTTP_ERROR";
    const message = typeof rawMessage === "string" ? rawMessage : `HTTP ${status}`;
    return new ApiError(status, code, this.messages.serverError?.(this.baseUrl, code, message) ?? message, details);
  }
}

const BAD = Symbol("not JSON");

function parseOr<T>(text: string, fallback: T): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}
