// The dashboard's Content-Security-Policy, on its own so that the desktop main process can apply it
// to its window without loading the dashboard's HTTP code (fastify's static file server).
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Monaco injects its styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  // Remote runtimes are arbitrary URLs the user adds.
  "connect-src 'self' http: https:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
