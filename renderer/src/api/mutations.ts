// Every write the UI makes, as a hook that owns its invalidation: a view calls the hook and never
// has to know which caches a change touches.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useApi } from "../connections/context";
import type { AppSettings, EgressMode, NewTrigger, ScriptSettings, TestRunInput } from "./types";
import { keys } from "./queries";

export function useCreateApp() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.client.createApp(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.apps(api) }),
  });
}

export function useUpdateApp(app: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (settings: AppSettings) => api.client.updateApp(app, settings),
    onSuccess: (updated) => {
      queryClient.setQueryData(keys.app(api, app), updated);
      return Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.apps(api) }),
        // What each script runs with may come from the app.
        queryClient.invalidateQueries({ queryKey: keys.scriptSettingsOf(api, app) }),
      ]);
    },
  });
}

export function useDeleteApp() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (app: string) => api.client.deleteApp(app),
    onSuccess: (_result, app) => {
      queryClient.removeQueries({ queryKey: keys.app(api, app) });
      return queryClient.invalidateQueries({ queryKey: keys.apps(api) });
    },
  });
}

function invalidateScript(queryClient: ReturnType<typeof useQueryClient>, api: ReturnType<typeof useApi>, app: string, name: string) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: keys.script(api, app, name) }),
    queryClient.invalidateQueries({ queryKey: keys.scripts(api, app) }),
    queryClient.invalidateQueries({ queryKey: keys.versions(api, app, name) }),
  ]);
}

export function useDeploy(app: string, name: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { source: string; language: "javascript" | "typescript" }) =>
      api.client.deploy(app, name, input.source, input.language),
    onSuccess: () => invalidateScript(queryClient, api, app, name),
  });
}

export function useRestoreVersion(app: string, name: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (version: number) => api.client.restore(app, name, version),
    onSuccess: () => invalidateScript(queryClient, api, app, name),
  });
}

export function useDeleteScript(app: string, name: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.client.deleteScript(app, name),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.scripts(api, app) }),
        queryClient.invalidateQueries({ queryKey: keys.triggers(api, app) }),
        queryClient.removeQueries({ queryKey: keys.script(api, app, name) }),
      ]),
  });
}

export function useTestRun(app: string, name: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: TestRunInput) => api.client.testRun(app, name, input),
    // A test run writes real data and records an invocation.
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.invocations(api) }),
        queryClient.invalidateQueries({ queryKey: keys.collections(api, app) }),
        // The run counts in the script's and the app's charts at once, not at their next refresh.
        queryClient.invalidateQueries({ queryKey: keys.stats(api) }),
      ]),
  });
}

export function useAddTrigger(app: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewTrigger) => api.client.addTrigger(app, body),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.triggers(api, app) }),
  });
}

export function useRemoveTrigger(app: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.client.removeTrigger(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.triggers(api, app) }),
  });
}

function invalidateKv(queryClient: ReturnType<typeof useQueryClient>, api: ReturnType<typeof useApi>, app: string, collection: string) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: keys.keysOf(api, app, collection) }),
    queryClient.invalidateQueries({ queryKey: keys.collections(api, app) }),
  ]);
}

export function usePutValue(app: string, collection: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { key: string; value: unknown }) => api.client.putValue(app, collection, input.key, input.value),
    onSuccess: () => invalidateKv(queryClient, api, app, collection),
  });
}

export function useDeleteKey(app: string, collection: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (key: string) => api.client.deleteKey(app, collection, key),
    onSuccess: () => invalidateKv(queryClient, api, app, collection),
  });
}

export function useReplayDeadLetters() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (ids: string[]) => api.client.replayDeadLetters(ids),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.deadLetters(api) }),
        queryClient.invalidateQueries({ queryKey: keys.events(api) }),
      ]),
  });
}

export function useDeleteDeadLetters() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (ids: string[]) => api.client.deleteDeadLetters(ids),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.deadLetters(api) }),
  });
}

export function useCreateToken() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.client.createToken(name),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.tokens(api) }),
  });
}

export function useRevokeToken() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.client.revokeToken(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.tokens(api) }),
  });
}

/** A first app with the hello example deployed: a working endpoint in one click for a new user. */
export function useCreateExampleApp() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: { app: string; script: string; source: string }) => {
      await api.client.createApp(input.app);
      return api.client.deploy(input.app, input.script, input.source, "javascript");
    },
    onSuccess: (_result, input) =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.apps(api) }),
        queryClient.invalidateQueries({ queryKey: keys.scripts(api, input.app) }),
      ]),
  });
}

export function useUpdateScriptSettings(app: string, name: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (settings: ScriptSettings) => api.client.updateScriptSettings(app, name, settings),
    onSuccess: (view) => queryClient.setQueryData(keys.scriptSettings(api, app, name), view),
  });
}

export function useSetSecret(app: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; value: string }) => api.client.setSecret(app, input.name, input.value),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.secrets(api, app) }),
  });
}

export function useDeleteSecret(app: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.client.deleteSecret(app, name),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.secrets(api, app) }),
  });
}

export function useAllowEgress(app: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (pattern: string) => api.client.allowEgress(app, [pattern]),
    onSuccess: (view) => queryClient.setQueryData(keys.egress(api, app), view),
  });
}

export function useSetEgressMode(app: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (mode: EgressMode) => api.client.setEgressMode(app, mode),
    onSuccess: (view) => queryClient.setQueryData(keys.egress(api, app), view),
  });
}

export function useRemoveEgress(app: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (pattern: string) => api.client.removeEgress(app, pattern),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.egress(api, app) }),
  });
}
