// Tenant content shares an origin with the dashboard and admin API. Browsers must therefore treat
// every script response as coming from nowhere: `content-security-policy: sandbox` gives the page
// an opaque origin (no access to the dashboard's storage, no same-origin requests, no cookies),
// `nosniff` stops a JSON or text body from being run as HTML or script, and Set-Cookie is removed
// so a script cannot plant cookies on the dashboard's origin. An app may opt out (`browserSandbox:
// false`); docs/security.md says what that costs.
import type { FastifyReply } from "fastify";

/** The header values every sandboxed script response carries. */
export const TENANT_SANDBOX_HEADERS = {
  "content-security-policy": "sandbox allow-scripts allow-forms allow-popups allow-downloads",
  "x-content-type-options": "nosniff",
} as const;

/** Applies the browser sandbox to a script response (its own CSP is kept, the sandbox is added). */
export function isolateTenantResponse(reply: FastifyReply, sandboxed: boolean): void {
  reply.header("x-content-type-options", "nosniff");
  if (!sandboxed) return;
  const own = reply.getHeader("content-security-policy");
  const sandbox = TENANT_SANDBOX_HEADERS["content-security-policy"];
  // A second policy can only narrow the first, so the script's own policy still applies in full.
  reply.header("content-security-policy", typeof own === "string" && own !== "" ? `${own}, ${sandbox}` : sandbox);
  reply.removeHeader("set-cookie");
}
