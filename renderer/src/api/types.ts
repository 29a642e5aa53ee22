// The admin API's contract types, generated from the route schemas (runtime/client/types.ts names
// them); only the live stream's messages, which the OpenAPI document does not describe, are here.
export type {
  App,
  AppSettings,
  AttemptRecord,
  CreatedToken,
  CurrentScript,
  DeadLetter,
  Deployed,
  EventRecord,
  EventStatus,
  InvocationDetail,
  InvocationError,
  InvocationRecord,
  KvCollection,
  KvEntry,
  LogLine,
  EgressPattern,
  NewTrigger,
  NodeInfo,
  RecordedRequest,
  RecordedResponse,
  RecordedText,
  ScriptLanguage,
  ScriptListItem,
  ScriptSettings,
  ScriptSettingsView,
  ScriptVersion,
  SecretInfo,
  SettingSource,
  StatsPoint,
  StatsResponse,
  StatsSeries,
  TestRunInput,
  TestRunResult,
  TokenInfo,
  Trigger,
  VersionMeta,
} from "../../../runtime/client/types.js";

export interface StreamEvent {
  id: string;
  app: string;
  script: string;
  kind: string;
  status: string;
  attempt: number;
  deadLetterId: string | null;
}
