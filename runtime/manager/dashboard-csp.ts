// The dashboard's Content-Security-Policy, on its own so that the desktop main process can apply it
// to its window without loading the dashboard's HTTP code (fastify's static file server).

/**
 * The UI served by a runtime talks to that runtime only: an injected script could not send data
 * anywhere else. The desktop window widens this to the remote runtimes the user saved (main/window-security.ts).
 */
export const CONNECT_SELF = "connect-src 'self'";

export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Monaco injects its styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  CONNECT_SELF,
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
