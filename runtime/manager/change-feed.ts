// Control-plane changes (apps, scripts, triggers, tokens, KV writes, dead letters, secrets…) as
// they are made through the admin API, for the live stream: open dashboards refresh their lists
// when the CLI or another window changes something. The feed is the request that succeeded, not
// a domain event, so every new route is covered without extra code.
export interface ChangeMessage {
  readonly method: string;
  /** The API path below /api/v1, e.g. `/apps/web/scripts/greet`. */
  readonly path: string;
  /** The app the change belongs to, when the path names one. */
  readonly app: string | null;
}

type Listener = (change: ChangeMessage) => void;

export class ChangeFeed {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(change: ChangeMessage): void {
    for (const listener of this.listeners) listener(change);
  }
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The change a finished admin request made, if it made one (a successful write). */
export function changeFromRequest(method: string, url: string, status: number, prefix: string): ChangeMessage | undefined {
  if (!WRITE_METHODS.has(method) || status >= 400) return undefined;
  const path = url.split("?", 1)[0]?.slice(prefix.length) ?? "";
  // A test run writes KV data and records an invocation: that is what its stream messages say.
  if (/\/invoke$/.test(path)) return undefined;
  const [first, second] = path.split("/").filter(Boolean);
  const app = first === "apps" && second ? decodeURIComponent(second) : null;
  return { method, path, app };
}
