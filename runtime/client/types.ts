// Names for the admin API's shapes, taken from the generated types (so from the route schemas):
// what the renderer and the CLI call an app, a trigger or an invocation record.
import type { ApiBody, ApiData, StreamMessages } from "./api-client.js";

export type App = ApiData<"get", "/api/v1/apps/{app}">;
export type AppSettings = App["settings"];
export type ScriptListItem = ApiData<"get", "/api/v1/apps/{app}/scripts">["scripts"][number];
export type CurrentScript = ApiData<"get", "/api/v1/apps/{app}/scripts/{name}">;
export type ScriptVersion = ApiData<"get", "/api/v1/apps/{app}/scripts/{name}/versions/{version}">;
export type VersionMeta = ApiData<"get", "/api/v1/apps/{app}/scripts/{name}/versions">["versions"][number];
export type ScriptLanguage = VersionMeta["language"];
export type Deployed = ApiData<"put", "/api/v1/apps/{app}/scripts/{name}">;
export type TestRunInput = ApiBody<"post", "/api/v1/apps/{app}/scripts/{name}/invoke">;
export type TestRunResult = ApiData<"post", "/api/v1/apps/{app}/scripts/{name}/invoke">;
/** A script's own settings and what it runs with, value by value with where each comes from. */
export type ScriptSettingsView = ApiData<"get", "/api/v1/apps/{app}/scripts/{name}/settings">;
export type AppSettingsView = ApiData<"get", "/api/v1/apps/{app}/settings">;
export type ScriptSettings = ScriptSettingsView["settings"];
export type SettingSource = ScriptSettingsView["effective"]["strict"]["source"];

export type Trigger = ApiData<"get", "/api/v1/apps/{app}/triggers">["triggers"][number];
export type NewTrigger = ApiBody<"post", "/api/v1/apps/{app}/triggers">;

export type KvCollection = ApiData<"get", "/api/v1/apps/{app}/kv">["collections"][number];
export type KvPage = ApiData<"get", "/api/v1/apps/{app}/kv/{collection}">;
export type KvEntry = KvPage["items"][number];

export type InvocationRecord = ApiData<"get", "/api/v1/invocations">["invocations"][number];
export type { StreamMessage, StreamMessages } from "./api-client.js";
/** An event's state change, as the live stream reports it. */
export type StreamEvent = StreamMessages["event"];
/** One record in full: with the request, response or return value when the run was kept in full. */
export type InvocationDetail = ApiData<"get", "/api/v1/invocations/{id}">;
export type RecordedRequest = NonNullable<InvocationDetail["request"]>;
export type RecordedResponse = NonNullable<InvocationDetail["response"]>;
export type RecordedText = NonNullable<RecordedRequest["body"]>;
export type LogLine = InvocationRecord["logs"][number];
export type InvocationError = NonNullable<InvocationRecord["error"]>;
export type EventRecord = ApiData<"get", "/api/v1/events/{id}">;
export type EventStatus = EventRecord["status"];
export type AttemptRecord = EventRecord["errors"][number];
export type EventList = ApiData<"get", "/api/v1/events">;
export type DeadLetter = ApiData<"get", "/api/v1/deadletters/{id}">;
export type DeadLetterList = ApiData<"get", "/api/v1/deadletters">;

export type StatsResponse = ApiData<"get", "/api/v1/stats">;
export type StatsSeries = StatsResponse["series"][number];
export type StatsPoint = StatsSeries["points"][number];

export type TokenInfo = ApiData<"get", "/api/v1/tokens">["tokens"][number];
export type CreatedToken = ApiData<"post", "/api/v1/tokens">;
export type NodeInfo = ApiData<"get", "/api/v1/nodes">["nodes"][number];
export type SecretInfo = ApiData<"get", "/api/v1/apps/{app}/secrets">["secrets"][number];
export type EgressView = ApiData<"get", "/api/v1/apps/{app}/egress">;
export type EgressPattern = EgressView["patterns"][number];
export type EgressMode = EgressView["mode"];
