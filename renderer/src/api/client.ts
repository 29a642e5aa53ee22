// One PiCloud runtime's admin API (local or remote) as the views use it: named calls over the shared
// typed client (runtime/client/api-client.ts), whose paths, parameters and answers come from the
// route schemas. Failures are coded ApiErrors.
import { ApiError, PiCloudApi } from "../../../runtime/client/api-client.js";
import type { AppSettings, EgressMode, NewTrigger, ScriptSettings, TestRunInput } from "./types";

export { ApiError };
export type { NodeInfo } from "./types";

/** A filter as the views keep it: text fields, empty or absent when unset. */
type Filter = Readonly<Record<string, string | undefined>>;

/** The value if it is one of `allowed` (a select's value, typed for the query), else undefined. */
function oneOf<const T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined {
  return allowed.find((candidate) => candidate === value);
}

const text = (value: string | undefined) => value || undefined;
const count = (value: string | undefined) => (value ? Number(value) : undefined);

export class PiCloudClient {
  private readonly api: PiCloudApi;

  constructor(
    readonly baseUrl: string,
    token: string,
  ) {
    this.api = new PiCloudApi({ url: baseUrl, token });
  }

  /** URL of the live event stream (EventSource cannot send headers, so the token rides along). */
  streamUrl(app?: string): string {
    return this.api.streamUrl(app);
  }

  listApps = () => this.api.GET("/api/v1/apps").then((r) => r.apps);
  createApp = (id: string, strict = false) =>
    this.api.POST("/api/v1/apps", { body: { id, ...(strict && { settings: { strict: true } }) } });
  getApp = (app: string) => this.api.GET("/api/v1/apps/{app}", { params: { path: { app } } });
  updateApp = (app: string, settings: AppSettings) =>
    this.api.PATCH("/api/v1/apps/{app}", { params: { path: { app } }, body: { settings } });
  deleteApp = (app: string) => this.api.DELETE("/api/v1/apps/{app}", { params: { path: { app } } });

  listScripts = (app: string) => this.api.GET("/api/v1/apps/{app}/scripts", { params: { path: { app } } }).then((r) => r.scripts);
  getScript = (app: string, name: string) => this.api.GET("/api/v1/apps/{app}/scripts/{name}", { params: { path: { app, name } } });
  deploy = (app: string, name: string, source: string, language: "javascript" | "typescript") =>
    this.api.PUT("/api/v1/apps/{app}/scripts/{name}", { params: { path: { app, name } }, body: { source, language } });
  deleteScript = (app: string, name: string) => this.api.DELETE("/api/v1/apps/{app}/scripts/{name}", { params: { path: { app, name } } });
  listVersions = (app: string, name: string) =>
    this.api.GET("/api/v1/apps/{app}/scripts/{name}/versions", { params: { path: { app, name } } }).then((r) => r.versions);
  getVersion = (app: string, name: string, version: number) =>
    this.api.GET("/api/v1/apps/{app}/scripts/{name}/versions/{version}", { params: { path: { app, name, version } } });
  restore = (app: string, name: string, version: number) =>
    this.api.POST("/api/v1/apps/{app}/scripts/{name}/versions/{version}/restore", { params: { path: { app, name, version } } });
  getScriptSettings = (app: string, name: string) =>
    this.api.GET("/api/v1/apps/{app}/scripts/{name}/settings", { params: { path: { app, name } } });
  updateScriptSettings = (app: string, name: string, settings: ScriptSettings) =>
    this.api.PUT("/api/v1/apps/{app}/scripts/{name}/settings", { params: { path: { app, name } }, body: { settings } });
  testRun = (app: string, name: string, input: TestRunInput) =>
    this.api.POST("/api/v1/apps/{app}/scripts/{name}/invoke", { params: { path: { app, name } }, body: input });

  listSecrets = (app: string) => this.api.GET("/api/v1/apps/{app}/secrets", { params: { path: { app } } }).then((r) => r.secrets);
  setSecret = (app: string, name: string, value: string) =>
    this.api.PUT("/api/v1/apps/{app}/secrets/{name}", { params: { path: { app, name } }, body: { value } });
  deleteSecret = (app: string, name: string) => this.api.DELETE("/api/v1/apps/{app}/secrets/{name}", { params: { path: { app, name } } });
  egress = (app: string) => this.api.GET("/api/v1/apps/{app}/egress", { params: { path: { app } } });
  allowEgress = (app: string, patterns: string[]) =>
    this.api.POST("/api/v1/apps/{app}/egress", { params: { path: { app } }, body: { patterns } });
  setEgressMode = (app: string, mode: EgressMode) =>
    this.api.PUT("/api/v1/apps/{app}/egress/mode", { params: { path: { app } }, body: { mode } });
  removeEgress = (app: string, pattern: string) =>
    this.api.DELETE("/api/v1/apps/{app}/egress", { params: { path: { app }, query: { pattern } } });

  listTriggers = (app: string) => this.api.GET("/api/v1/apps/{app}/triggers", { params: { path: { app } } }).then((r) => r.triggers);
  addTrigger = (app: string, body: NewTrigger) => this.api.POST("/api/v1/apps/{app}/triggers", { params: { path: { app } }, body });
  removeTrigger = (id: string) => this.api.DELETE("/api/v1/triggers/{id}", { params: { path: { id } } });

  listCollections = (app: string) => this.api.GET("/api/v1/apps/{app}/kv", { params: { path: { app } } }).then((r) => r.collections);
  listKeys = (app: string, collection: string, options: { prefix?: string; cursor?: string | null; limit?: number }) =>
    this.api.GET("/api/v1/apps/{app}/kv/{collection}", {
      params: {
        path: { app, collection },
        query: { prefix: options.prefix || undefined, cursor: options.cursor || undefined, limit: options.limit ?? 200 },
      },
    });
  putValue = (app: string, collection: string, key: string, value: unknown) =>
    this.api.PUT("/api/v1/apps/{app}/kv/{collection}/{key}", { params: { path: { app, collection, key } }, body: { value } });
  deleteKey = (app: string, collection: string, key: string) =>
    this.api.DELETE("/api/v1/apps/{app}/kv/{collection}/{key}", { params: { path: { app, collection, key } } });

  listInvocations = (filter: Filter) =>
    this.api
      .GET("/api/v1/invocations", {
        params: {
          query: {
            app: text(filter.app),
            script: text(filter.script),
            status: oneOf(filter.status, ["ok", "error"]),
            trigger: oneOf(filter.trigger, ["http", "kv", "schedule", "dead_letter", "test"]),
            before: text(filter.before),
            limit: count(filter.limit),
            q: text(filter.q),
          },
        },
      })
      .then((r) => r.invocations);
  listEvents = (filter: Filter) =>
    this.api.GET("/api/v1/events", {
      params: {
        query: {
          app: text(filter.app),
          script: text(filter.script),
          status: oneOf(filter.status, ["pending", "running", "done", "dead", "failed"]),
          before: text(filter.before),
          limit: count(filter.limit),
        },
      },
    });
  stats = (filter: { app?: string; script?: string; minutes: number; by: "app" | "script" }) =>
    this.api.GET("/api/v1/stats", { params: { query: filter } });
  getInvocation = (id: string) => this.api.GET("/api/v1/invocations/{id}", { params: { path: { id } } });
  getEvent = (id: string) => this.api.GET("/api/v1/events/{id}", { params: { path: { id } } });
  listDeadLetters = (app?: string) => this.api.GET("/api/v1/deadletters", { params: { query: { app: app || undefined, limit: 500 } } });
  replayDeadLetters = (ids: string[]) => this.api.POST("/api/v1/deadletters/replay", { body: { ids } });
  deleteDeadLetters = (ids: string[]) => this.api.POST("/api/v1/deadletters/delete", { body: { ids } });

  listTokens = () => this.api.GET("/api/v1/tokens").then((r) => r.tokens);
  createToken = (name: string) => this.api.POST("/api/v1/tokens", { body: { name } });
  revokeToken = (id: string) => this.api.DELETE("/api/v1/tokens/{id}", { params: { path: { id } } });

  listNodes = () => this.api.GET("/api/v1/nodes").then((r) => r.nodes);
}

/** Checks that `url` is a PiCloud runtime that accepts `token`, before anything is saved. */
export async function checkConnection(url: string, token: string): Promise<void> {
  await new PiCloudClient(url, token).listApps();
}
