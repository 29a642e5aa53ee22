// Which `pg` errors mean "the database is unreachable" (restart, network drop, too many clients)
// rather than "this statement is wrong".

const NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (NODE_CODES.has(code)) return true;
    // SQLSTATE class 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now.
    if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03") return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(error.message);
}
