// When a failed query is tried again: a 4xx is the server's considered answer (not found, invalid,
// rejected token), so asking again only repeats it (and its console error); anything else gets one retry.
import { ApiError } from "./client";

export function retryUnlessClientError(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failures < 1;
}
