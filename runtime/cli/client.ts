// The CLI's admin API client: the shared typed client (runtime/client/api-client.ts), with the
// problems a CLI user can fix worded in terms of flags and variables rather than HTTP.
import { ApiError, PiCloudApi } from "../client/api-client.js";

export { ApiError };

/** A problem on this side (a missing file, a bad flag): said plainly, without a server error code. */
export class CliError extends Error {}

export interface ClientOptions {
  readonly url: string;
  readonly token: string | undefined;
}

export function cliApi(options: ClientOptions): PiCloudApi {
  return new PiCloudApi({
    url: options.url,
    token: options.token,
    messages: {
      unreachable: (baseUrl, reason) =>
        `Cannot reach PiCloud at ${baseUrl} (${reason}). Is 'picloud serve' running? Set --url or PICLOUD_URL.`,
      badResponse: (baseUrl, status) => `Unexpected response from ${baseUrl} (HTTP ${status}).`,
      // Auth failures said in terms of what a CLI user can change (flags and variables, not headers).
      serverError(baseUrl, code) {
        if (code === "AUTH_REQUIRED" && !options.token)
          return "No admin token given: set --token or PICLOUD_TOKEN ('picloud serve' prints one on first start).";
        if (code === "AUTH_INVALID") return `${baseUrl} rejected the admin token: check --token or PICLOUD_TOKEN.`;
        return undefined;
      },
    },
  });
}
