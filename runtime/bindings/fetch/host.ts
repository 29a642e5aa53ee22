// `fetch` on the host: undici makes the request; the guest never touches a socket. Every hop (the
// first request and each redirect) resolves the name, checks every address it would use against the
// app's egress policy, and connects only to an address that passed (pinned: DNS cannot change it
// between the check and the connect). Limits: requests per invocation, response bytes, and a timeout
// that never outlasts the invocation's wall time.
import { lookup } from "node:dns/promises";
import { STATUS_CODES } from "node:http";
import { isIP, type LookupFunction } from "node:net";
import { PiCloudError } from "../../shared/errors.js";
import type { HostOps, InvocationScope } from "../channel.js";
import type { EgressPolicy } from "./egress-policy.js";
import { commonJsExports } from "../../shared/commonjs.js";

/** Resolves a host name to every address it has (tests inject one: no real DNS, no real traffic). */
export type Resolver = (host: string) => Promise<readonly { address: string; family: number }[]>;

export const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** One outbound call as the invocation's detail shows it. */
export interface OutboundCall {
  readonly method: string;
  readonly host: string;
  readonly status?: number;
  readonly error?: string;
  readonly durationMs: number;
  /** ms since the invocation started. */
  readonly at: number;
}

export interface FetchDeps {
  readonly egress: (app: string) => EgressPolicy | Promise<EgressPolicy>;
  readonly resolver?: Resolver | undefined;
}

interface WireRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: [string, string][];
  readonly redirect: "follow" | "manual" | "error";
  readonly text?: string;
  readonly base64?: string;
}

const MAX_REDIRECTS = 10;
/** Set by undici or meaningless across a proxy hop: the script may not choose them. */
const DROPPED_HEADERS = new Set([
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "expect",
  "te",
  "trailer",
]);
const TEXT_TYPE = /^(text\/|application\/(?:[\w.+-]+\+)?(?:json|xml|javascript|x-www-form-urlencoded)\b)/i;

function fail(
  code: "FETCH_DENIED" | "FETCH_TIMEOUT" | "FETCH_TOO_LARGE" | "FETCH_LIMIT" | "FETCH_FAILED" | "FETCH_INVALID",
  message: string,
) {
  return new PiCloudError(code, message);
}

function targetUrl(text: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw fail("FETCH_INVALID", "fetch: the URL is not valid.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw fail("FETCH_INVALID", `fetch: only http and https URLs are supported (got ${url.protocol}).`);
  return url;
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** The address to connect to, after the policy check on every address the name has. */
async function vet(url: URL, policy: EgressPolicy, resolver: Resolver): Promise<{ address: string; family: number }> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = portOf(url);
  const denied = () =>
    fail(
      "FETCH_DENIED",
      policy.mode === "allowlist"
        ? `fetch: the egress policy does not allow ${url.host} (the app reaches only its allowed patterns; allow it with 'picloud egress allow').`
        : `fetch: the egress policy does not allow ${url.host} (private, loopback or link-local address; allow it with 'picloud egress allow').`,
    );
  if (isIP(host)) {
    if (!policy.allows(host, port, host)) throw denied();
    return { address: host, family: isIP(host) };
  }
  if (!policy.mayReach(host, port)) throw denied();
  let addresses: readonly { address: string; family: number }[];
  try {
    addresses = await resolver(host);
  } catch {
    throw fail("FETCH_FAILED", `fetch: could not resolve ${host}.`);
  }
  // Every address must pass: a name with one public and one private answer is not a way in.
  if (addresses.length === 0 || addresses.some((a) => !policy.allows(host, port, a.address))) throw denied();
  return addresses[0] as { address: string; family: number };
}

function pinned(target: { address: string; family: number }): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [target]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number, host: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw fail("FETCH_TOO_LARGE", `fetch: the response from ${host} exceeds the limit of ${limit} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function headerPairs(headers: Record<string, string | string[] | undefined>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) pairs.push([name, v]);
  }
  return pairs;
}

function bodyReply(bytes: Buffer, type: string | undefined): { text: string } | { base64: string } {
  if (bytes.length === 0) return { text: "" };
  if (type && TEXT_TYPE.test(type)) {
    try {
      return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
    } catch {
      // not UTF-8 after all: hand over the bytes
    }
  }
  return { base64: bytes.toString("base64") };
}

export function fetchHost(deps: FetchDeps, scope: InvocationScope): HostOps {
  let made = 0;
  const resolver = deps.resolver ?? systemResolver;
  return async (op, argsJson) => {
    if (op !== "fetch") throw new PiCloudError("BAD_REQUEST", "Unknown SDK call.");
    const wire = JSON.parse(argsJson) as WireRequest;
    let url = targetUrl(wire.url);
    let method = String(wire.method).toUpperCase();
    const started = performance.now();
    const entry: { method: string; host: string; status?: number; error?: string } = { method, host: url.host };
    const controller = new AbortController();
    const timeoutMs = Math.max(0, Math.min(scope.limits.fetchTimeoutMs, scope.deadline - started));
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      if (++made > scope.limits.fetchRequests) {
        throw fail("FETCH_LIMIT", `fetch: this invocation reached its limit of ${scope.limits.fetchRequests} outbound requests.`);
      }
      const policy = await deps.egress(scope.app);
      const headers: Record<string, string> = {};
      for (const [name, value] of wire.headers) if (!DROPPED_HEADERS.has(name.toLowerCase())) headers[name] = value;
      let body: string | Buffer | undefined = wire.base64 !== undefined ? Buffer.from(wire.base64, "base64") : wire.text;
      // undici is loaded by the first outbound fetch, not at start (it is a large module).
      const { Agent, request } = commonJsExports(await import("undici"), "Agent");
      for (let hop = 0; ; hop++) {
        const target = await vet(url, policy, resolver);
        const dispatcher = new Agent({ connect: { lookup: pinned(target) }, connections: 1, pipelining: 0 });
        try {
          const response = await request(url, {
            method: method as "GET",
            headers,
            body: body ?? null,
            dispatcher,
            signal: controller.signal,
          });
          const location = response.headers.location;
          const redirect =
            response.statusCode >= 300 && response.statusCode < 400 && response.statusCode !== 304 && typeof location === "string";
          if (redirect && wire.redirect !== "manual") {
            await response.body.dump();
            if (wire.redirect === "error")
              throw fail("FETCH_FAILED", `fetch: ${url.host} answered with a redirect and redirect is 'error'.`);
            if (hop >= MAX_REDIRECTS) throw fail("FETCH_FAILED", `fetch: more than ${MAX_REDIRECTS} redirects.`);
            url = targetUrl(location, url);
            if (response.statusCode === 303 || ((response.statusCode === 301 || response.statusCode === 302) && method === "POST")) {
              method = method === "HEAD" ? "HEAD" : "GET";
              body = undefined;
              delete headers["content-type"];
            }
            continue;
          }
          const declared = Number(response.headers["content-length"]);
          if (declared > scope.limits.fetchResponseBytes) {
            response.body.destroy();
            throw fail(
              "FETCH_TOO_LARGE",
              `fetch: the response from ${url.host} (${declared} bytes) exceeds the limit of ${scope.limits.fetchResponseBytes} bytes.`,
            );
          }
          const bytes = await readLimited(response.body, scope.limits.fetchResponseBytes, url.host);
          entry.status = response.statusCode;
          const type = response.headers["content-type"];
          return JSON.stringify({
            status: response.statusCode,
            statusText: STATUS_CODES[response.statusCode] ?? "",
            headers: headerPairs(response.headers),
            url: url.href,
            redirected: hop > 0,
            ...bodyReply(bytes, typeof type === "string" ? type : undefined),
          });
        } finally {
          void dispatcher.destroy().catch(() => {});
        }
      }
    } catch (error) {
      // Network and protocol failures carry a code (ECONNREFUSED, UND_ERR_*, ERR_TLS_*); one without is
      // a fault of ours (a TypeError, say), logged as INTERNAL by the caller rather than posing as the network's.
      if (!(error instanceof PiCloudError) && !controller.signal.aborted && (error as { code?: unknown })?.code === undefined) {
        entry.error = "INTERNAL";
        throw error;
      }
      const coded =
        error instanceof PiCloudError
          ? error
          : controller.signal.aborted
            ? fail("FETCH_TIMEOUT", `fetch: ${url.host} did not answer within ${Math.round(timeoutMs)} ms.`)
            : fail("FETCH_FAILED", `fetch: the request to ${url.host} failed (${String((error as { code: string }).code)}).`);
      entry.error = coded.code;
      throw coded;
    } finally {
      clearTimeout(timer);
      const at = Math.round(started - (scope.deadline - scope.limits.wallMs));
      scope.outbound.push({ ...entry, durationMs: Math.round(performance.now() - started), at });
    }
  };
}
