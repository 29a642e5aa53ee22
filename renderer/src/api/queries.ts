// Every read the UI makes, as TanStack Query `queryOptions` factories: one place for query keys
// and fetchers, so views share caches and mutations know exactly what to invalidate.
// Every key starts with the connection id: switching runtimes never mixes their data, and one
// prefix drops everything a connection cached.
import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { ApiError, type PiCloudClient } from "./client";

/** What a query needs: the connection it reads from. */
export interface Api {
  readonly id: string;
  readonly client: PiCloudClient;
}

export type Filter = Readonly<Record<string, string | undefined>>;

export const keys = {
  all: (api: Api) => [api.id] as const,
  health: (api: Api) => [api.id, "health"] as const,
  apps: (api: Api) => [api.id, "apps"] as const,
  app: (api: Api, app: string) => [api.id, "app", app] as const,
  scripts: (api: Api, app: string) => [api.id, "scripts", app] as const,
  script: (api: Api, app: string, name: string) => [api.id, "script", app, name] as const,
  versions: (api: Api, app: string, name: string) => [api.id, "versions", app, name] as const,
  /** Every script's settings of an app: they depend on the app's settings too. */
  scriptSettingsOf: (api: Api, app: string) => [api.id, "script-settings", app] as const,
  scriptSettings: (api: Api, app: string, name: string) => [api.id, "script-settings", app, name] as const,
  secrets: (api: Api, app: string) => [api.id, "secrets", app] as const,
  egress: (api: Api, app: string) => [api.id, "egress", app] as const,
  triggers: (api: Api, app: string) => [api.id, "triggers", app] as const,
  collections: (api: Api, app: string) => [api.id, "collections", app] as const,
  keysOf: (api: Api, app: string, collection: string) => [api.id, "kv", app, collection] as const,
  invocations: (api: Api) => [api.id, "invocations"] as const,
  events: (api: Api) => [api.id, "events"] as const,
  deadLetters: (api: Api) => [api.id, "deadletters"] as const,
  tokens: (api: Api) => [api.id, "tokens"] as const,
  stats: (api: Api) => [api.id, "stats"] as const,
};

/** Cheap liveness probe of the active runtime (also tells a rejected token from a down server). */
export const healthQuery = (api: Api) =>
  queryOptions({ queryKey: keys.health(api), queryFn: () => api.client.listApps().then(() => true), refetchInterval: 30_000, retry: 0 });

export const appsQuery = (api: Api) => queryOptions({ queryKey: keys.apps(api), queryFn: () => api.client.listApps() });

export const appQuery = (api: Api, app: string) => queryOptions({ queryKey: keys.app(api, app), queryFn: () => api.client.getApp(app) });

export const scriptsQuery = (api: Api, app: string) =>
  queryOptions({ queryKey: keys.scripts(api, app), queryFn: () => api.client.listScripts(app) });

/** The deployed script, or null when the name is not deployed yet (a new script). */
export const scriptQuery = (api: Api, app: string, name: string) =>
  queryOptions({
    queryKey: keys.script(api, app, name),
    queryFn: async () => {
      try {
        return await api.client.getScript(app, name);
      } catch (error) {
        if (error instanceof ApiError && error.code === "SCRIPT_NOT_FOUND") return null;
        throw error;
      }
    },
  });

export const versionsQuery = (api: Api, app: string, name: string) =>
  queryOptions({ queryKey: keys.versions(api, app, name), queryFn: () => api.client.listVersions(app, name) });

export const versionQuery = (api: Api, app: string, name: string, version: number) =>
  queryOptions({
    queryKey: [...keys.versions(api, app, name), version] as const,
    queryFn: () => api.client.getVersion(app, name, version),
    staleTime: Number.POSITIVE_INFINITY, // a version never changes
  });

export const scriptSettingsQuery = (api: Api, app: string, name: string) =>
  queryOptions({ queryKey: keys.scriptSettings(api, app, name), queryFn: () => api.client.getScriptSettings(app, name) });

export const secretsQuery = (api: Api, app: string) =>
  queryOptions({ queryKey: keys.secrets(api, app), queryFn: () => api.client.listSecrets(app) });

export const egressQuery = (api: Api, app: string) =>
  queryOptions({ queryKey: keys.egress(api, app), queryFn: () => api.client.egress(app) });

export const triggersQuery = (api: Api, app: string) =>
  queryOptions({ queryKey: keys.triggers(api, app), queryFn: () => api.client.listTriggers(app) });

export const collectionsQuery = (api: Api, app: string) =>
  queryOptions({ queryKey: keys.collections(api, app), queryFn: () => api.client.listCollections(app) });

export const kvKeysQuery = (api: Api, app: string, collection: string, prefix: string) =>
  infiniteQueryOptions({
    queryKey: [...keys.keysOf(api, app, collection), prefix] as const,
    queryFn: ({ pageParam }) => api.client.listKeys(app, collection, { prefix, cursor: pageParam, limit: 200 }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.cursor,
  });

export const invocationsQuery = (api: Api, filter: Filter) =>
  queryOptions({ queryKey: [...keys.invocations(api), filter] as const, queryFn: () => api.client.listInvocations(filter) });

export const invocationQuery = (api: Api, id: string) =>
  queryOptions({ queryKey: [...keys.invocations(api), "one", id] as const, queryFn: () => api.client.getInvocation(id) });

export const eventsQuery = (api: Api, filter: Filter) =>
  queryOptions({ queryKey: [...keys.events(api), filter] as const, queryFn: () => api.client.listEvents(filter) });

export const eventQuery = (api: Api, id: string) =>
  queryOptions({ queryKey: [...keys.events(api), "one", id] as const, queryFn: () => api.client.getEvent(id) });

export const deadLettersQuery = (api: Api, app?: string) =>
  queryOptions({
    queryKey: [...keys.deadLetters(api), app ?? ""] as const,
    queryFn: () => api.client.listDeadLetters(app),
    refetchInterval: 15_000,
  });

export const tokensQuery = (api: Api) => queryOptions({ queryKey: keys.tokens(api), queryFn: () => api.client.listTokens() });

/** Per-minute invocation aggregates (charts on the overview and script pages). */
export const statsQuery = (api: Api, filter: { app?: string; script?: string; by: "app" | "script" }, minutes: number) =>
  queryOptions({
    queryKey: [...keys.stats(api), filter.app ?? null, filter.script ?? null, filter.by, minutes] as const,
    queryFn: () => api.client.stats({ ...filter, minutes }),
  });
