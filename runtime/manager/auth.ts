// Bearer-token authentication for the admin API. Verified tokens are cached briefly so the hot
// admin path does not write `last_used_at` on every request; revoking clears the cache at once.
import type { FastifyRequest } from "fastify";
import { PiCloudError } from "../shared/errors.js";
import { hashToken, type TokenStore } from "../store/tokens.js";

const CACHE_MS = 30_000;

export class AdminAuth {
  private readonly verified = new Map<string, number>();

  constructor(private readonly tokens: TokenStore) {}

  /** Reads the token from `Authorization: Bearer`, or `?access_token=` for EventSource, which cannot set headers. */
  static tokenOf(request: FastifyRequest): string | undefined {
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw new PiCloudError("AUTH_INVALID", "The Authorization header must be 'Bearer <token>'.");
      return match[1];
    }
    const query = request.query as Record<string, unknown> | undefined;
    return typeof query?.access_token === "string" ? query.access_token : undefined;
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
