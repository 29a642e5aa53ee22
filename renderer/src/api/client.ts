// A typed client for one PiCloud runtime's admin API (local or remote): bearer token, coded errors.
import type {
  App,
  AppSettings,
  TokenInfo,
  CurrentScript,
  DeadLetter,
  EgressPattern,
  EventRecord,
  InvocationDetail,
  InvocationRecord,
  KvEntry,
  ScriptListItem,
  ScriptSettings,
  ScriptSettingsView,
  SecretInfo,
  StatsResponse,
  TestRunResult,
  Trigger,
  VersionMeta,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const enc = encodeURIComponent;

export class PiCloudClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/+$/, "")}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined && { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "UNREACHABLE", `Cannot reach ${this.baseUrl}. Is the runtime running and the URL right?`);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError(
        response.status,
        "BAD_RESPONSE",
        `${this.baseUrl} did not answer like a PiCloud runtime (HTTP ${response.status}).`,
      );
    }
    if (!response.ok) {
      const {
        code = "HTTP_ERROR",
        message = `HTTP ${response.status}`,
        ...details
      } = (parsed as { error?: { code?: string; message?: string } & Record<string, unknown> })?.error ?? {};
      throw new ApiError(response.status, code, message, details);
    }
    return parsed as T;
  }

  /** URL of the live event stream (EventSource cannot send headers, so the token rides along). */
  streamUrl(app?: string): string {
    const query = new URLSearchParams({ access_token: this.token, ...(app && { app }) });
    return `${this.baseUrl.replace(/\/+$/, "")}/api/v1/stream?${query}`;
  }

  listApps = () => this.request<{ apps: App[] }>("GET", "/apps").then((r) => r.apps);
  createApp = (id: string, strict = false) => this.request<App>("POST", "/apps", { id, ...(strict && { settings: { strict: true } }) });
  getApp = (id: string) => this.request<App>("GET", `/apps/${enc(id)}`);
  updateApp = (id: string, settings: AppSettings) => this.request<App>("PATCH", `/apps/${enc(id)}`, { settings });
  deleteApp = (id: string) => this.request<void>("DELETE", `/apps/${enc(id)}`);

  listScripts = (app: string) => this.request<{ scripts: ScriptListItem[] }>("GET", `/apps/${enc(app)}/scripts`).then((r) => r.scripts);
  getScript = (app: string, name: string) => this.request<CurrentScript>("GET", `/apps/${enc(app)}/scripts/${enc(name)}`);
  deploy = (app: string, name: string, source: string, language: "javascript" | "typescript") =>
    this.request<{ version: number; url: string }>("PUT", `/apps/${enc(app)}/scripts/${enc(name)}`, { source, language });
  deleteScript = (app: string, name: string) => this.request<void>("DELETE", `/apps/${enc(app)}/scripts/${enc(name)}`);
  listVersions = (app: string, name: string) =>
    this.request<{ versions: VersionMeta[] }>("GET", `/apps/${enc(app)}/scripts/${enc(name)}/versions`).then((r) => r.versions);
  getVersion = (app: string, name: string, version: number) =>
    this.request<CurrentScript>("GET", `/apps/${enc(app)}/scripts/${enc(name)}/versions/${version}`);
  restore = (app: string, name: string, version: number) =>
    this.request<{ version: number }>("POST", `/apps/${enc(app)}/scripts/${enc(name)}/versions/${version}/restore`);
  getScriptSettings = (app: string, name: string) =>
    this.request<ScriptSettingsView>("GET", `/apps/${enc(app)}/scripts/${enc(name)}/settings`);
  updateScriptSettings = (app: string, name: string, settings: ScriptSettings) =>
    this.request<ScriptSettingsView>("PUT", `/apps/${enc(app)}/scripts/${enc(name)}/settings`, { settings });
  testRun = (app: string, name: string, input: { request?: unknown; event?: unknown }) =>
    this.request<TestRunResult>("POST", `/apps/${enc(app)}/scripts/${enc(name)}/invoke`, input);

  listSecrets = (app: string) => this.request<{ secrets: SecretInfo[] }>("GET", `/apps/${enc(app)}/secrets`).then((r) => r.secrets);
  setSecret = (app: string, name: string, value: string) =>
    this.request<SecretInfo>("PUT", `/apps/${enc(app)}/secrets/${enc(name)}`, { value });
  deleteSecret = (app: string, name: string) => this.request<void>("DELETE", `/apps/${enc(app)}/secrets/${enc(name)}`);
  listEgress = (app: string) => this.request<{ patterns: EgressPattern[] }>("GET", `/apps/${enc(app)}/egress`).then((r) => r.patterns);
  allowEgress = (app: string, patterns: string[]) =>
    this.request<{ patterns: EgressPattern[] }>("POST", `/apps/${enc(app)}/egress`, { patterns }).then((r) => r.patterns);
  removeEgress = (app: string, pattern: string) =>
    this.request<void>("DELETE", `/apps/${enc(app)}/egress?${new URLSearchParams({ pattern })}`);

  listTriggers = (app: string) => this.request<{ triggers: Trigger[] }>("GET", `/apps/${enc(app)}/triggers`).then((r) => r.triggers);
  addTrigger = (app: string, body: Record<string, unknown>) => this.request<Trigger>("POST", `/apps/${enc(app)}/triggers`, body);
  removeTrigger = (id: string) => this.request<void>("DELETE", `/triggers/${enc(id)}`);

  listCollections = (app: string) =>
    this.request<{ collections: { name: string; count: number }[] }>("GET", `/apps/${enc(app)}/kv`).then((r) => r.collections);
  listKeys = (app: string, collection: string, options: { prefix?: string; cursor?: string | null; limit?: number }) => {
    const query = new URLSearchParams({
      ...(options.prefix && { prefix: options.prefix }),
      ...(options.cursor && { cursor: options.cursor }),
      limit: String(options.limit ?? 200),
    });
    return this.request<{ items: KvEntry[]; cursor: string | null }>("GET", `/apps/${enc(app)}/kv/${enc(collection)}?${query}`);
  };
  putValue = (app: string, collection: string, key: string, value: unknown) =>
    this.request<{ op: string }>("PUT", `/apps/${enc(app)}/kv/${enc(collection)}/${enc(key)}`, { value });
  deleteKey = (app: string, collection: string, key: string) =>
    this.request<void>("DELETE", `/apps/${enc(app)}/kv/${enc(collection)}/${enc(key)}`);

  listInvocations = (filter: Record<string, string | undefined>) => {
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => Boolean(e[1])));
    return this.request<{ invocations: InvocationRecord[] }>("GET", `/invocations?${query}`).then((r) => r.invocations);
  };
  listEvents = (filter: Record<string, string | undefined>) => {
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => Boolean(e[1])));
    return this.request<{ events: EventRecord[]; counts: Record<string, number> }>("GET", `/events?${query}`);
  };
  stats = (filter: { app?: string; script?: string; minutes: number; by: "app" | "script" }) =>
    this.request<StatsResponse>(
      "GET",
      `/stats?${new URLSearchParams(
        Object.entries(filter)
          .filter((e) => e[1] !== undefined)
          .map(([k, v]) => [k, String(v)]),
      )}`,
    );
  getInvocation = (id: string) => this.request<InvocationDetail>("GET", `/invocations/${enc(id)}`);
  getEvent = (id: string) => this.request<EventRecord>("GET", `/events/${enc(id)}`);
  listDeadLetters = (app?: string) =>
    this.request<{ deadLetters: DeadLetter[]; total: number }>(
      "GET",
      `/deadletters?${new URLSearchParams(app ? { app, limit: "500" } : { limit: "500" })}`,
    );
  replayDeadLetters = (ids: string[]) => this.request<{ replayed: unknown[]; missing: string[] }>("POST", "/deadletters/replay", { ids });
  deleteDeadLetters = (ids: string[]) => this.request<{ deleted: string[]; missing: string[] }>("POST", "/deadletters/delete", { ids });

  listTokens = () => this.request<{ tokens: TokenInfo[] }>("GET", "/tokens").then((r) => r.tokens);
  createToken = (name: string) => this.request<TokenInfo & { token: string }>("POST", "/tokens", { name });
  revokeToken = (id: string) => this.request<void>("DELETE", `/tokens/${enc(id)}`);

  listNodes = () => this.request<{ nodes: NodeInfo[] }>("GET", "/nodes").then((r) => r.nodes);
}

/** One process of a cluster, as GET /nodes reports it. */
export interface NodeInfo {
  id: string;
  name: string;
  url: string;
  role: "node" | "manager" | "serve";
  version: string;
  status: "up" | "draining" | "down";
  startedAt: string;
  lastSeenAt: string;
  load: {
    requests: number;
    errors: number;
    p50Ms: number | null;
    p99Ms: number | null;
    inFlight: number;
    eventsClaimed: number;
    rssBytes: number;
  } | null;
}

/** Checks that `url` is a PiCloud runtime that accepts `token`, before anything is saved. */
export async function checkConnection(url: string, token: string): Promise<void> {
  await new PiCloudClient(url, token).listApps();
}
