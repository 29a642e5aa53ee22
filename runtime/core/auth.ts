// Bearer-token authentication for the admin API. Verified tokens are cached briefly so the hot
// admin path does not write `last_used_at` on every request; revoking clears the cache at once,
// in every process (through the bus).
import type { FastifyRequest } from "fastify";
import type { Bus } from "../store/bus.js";
import { PiCloudError } from "../shared/errors.js";
import { hashToken, type TokenStore } from "../store/tokens.js";

const CACHE_MS = 30_000;

export class AdminAuth {
  private readonly verified = new Map<string, number>();

  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly tokens: TokenStore,
    private readonly bus: Bus,
  ) {
    const clear = () => this.verified.clear();
    // Revocations notified while LISTEN was away are unknown: verify every token again.
    this.unsubscribe = [bus.subscribe("tokens.revoked", clear), bus.onReconnect(clear)];
  }

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

  /** A token was revoked: forget every verified token here at once, and in every other process. */
  forgetAll(id = "*"): Promise<void> {
    return this.bus.publish("tokens.revoked", { id });
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
  }
}
