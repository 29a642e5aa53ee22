// Bearer-token authentication for the admin API. Verified tokens are cached briefly so the hot
// admin path does not write `last_used_at` on every request; revoking clears the cache at once.
import type { FastifyRequest } from "fastify";
import { PiCloudError } from "../shared/errors.js";
import { hashToken, type TokenStore } from "../store/tokens.js";

const CACHE_MS = 30_000;

export class AdminAuth {
  private readonly verified = new Map<string, number>();

  constructor(private readonly tokens: TokenStore) {}

  /**
   * Reads the token from `Authorization: Bearer`, or from `?access_token=` on routes marked
   * `queryToken` (the SSE stream: EventSource cannot set headers). Elsewhere a token in the URL
   * is refused: URLs end up in logs, history and Referer headers.
   */
  static tokenOf(request: FastifyRequest): string | undefined {
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw new PiCloudError("AUTH_INVALID", "The Authorization header must be 'Bearer <token>'.");
      return match[1];
    }
    const query = request.query as Record<string, unknown> | undefined;
    if (typeof query?.access_token !== "string") return undefined;
    if (request.routeOptions.config?.queryToken === true) return query.access_token;
    throw new PiCloudError("AUTH_REQUIRED", "?access_token= is accepted only on the event stream; send 'Authorization: Bearer <token>'.");
  }

  async check(request: FastifyRequest): Promise<void> {
    const token = AdminAuth.tokenOf(request);
    if (!token) throw new PiCloudError("AUTH_REQUIRED");
    const hash = hashToken(token);
    const checkedAt = this.verified.get(hash);
    const now = Date.now();
    if (checkedAt !== undefined && now - checkedAt < CACHE_MS) return;
    if (!(await this.tokens.verify(token))) {
      this.verified.delete(hash);
      throw new PiCloudError("AUTH_INVALID");
    }
    this.verified.set(hash, now);
  }

  forgetAll(): void {
    this.verified.clear();
  }
}
