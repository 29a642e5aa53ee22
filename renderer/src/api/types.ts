// The admin API's contract types, taken from the runtime by type-only imports (nothing of the
// runtime's code reaches the renderer bundle).
export type { App, AppSettings } from "../../../runtime/store/apps.js";
export type { DeadLetter } from "../../../runtime/store/dead-letters.js";
export type { AttemptRecord, EventRecord, EventStatus } from "../../../runtime/store/events.js";
export type {
  InvocationDetail,
  InvocationError,
  InvocationRecord,
  LogLine,
  RecordedRequest,
  RecordedResponse,
  RecordedText,
} from "../../../runtime/store/invocations.js";
export type { ScriptLanguage, ScriptSettings, ScriptSummary, ScriptVersion } from "../../../runtime/store/scripts.js";
import type { ScriptSettings } from "../../../runtime/store/scripts.js";
import type { SettingSource } from "../../../runtime/orchestrator/effective-settings.js";
import type { LimitName } from "../../../runtime/shared/limits.js";
export type { SettingSource } from "../../../runtime/orchestrator/effective-settings.js";
export type { Trigger } from "../../../runtime/store/triggers.js";
export type { TokenInfo } from "../../../runtime/store/tokens.js";
import type { StatsSeries } from "../../../runtime/orchestrator/stats-series.js";
export type { StatsPoint, StatsSeries } from "../../../runtime/orchestrator/stats-series.js";

export interface StatsResponse {
  from: number;
  to: number;
  stepMs: number;
  series: StatsSeries[];
}

export interface ScriptListItem {
  app: string;
  name: string;
  currentVersion: number;
  createdAt: string;
  updatedAt: string;
  url: string;
}

export interface CurrentScript {
  app: string;
  name: string;
  version: number;
  language: "javascript" | "typescript";
  source: string;
  restoredFrom: number | null;
  createdAt: string;
  url: string;
}

export interface VersionMeta {
  version: number;
  language: "javascript" | "typescript";
  restoredFrom: number | null;
  createdAt: string;
}

export interface TestRunResult {
  invocation: string;
  version: number;
  ok: boolean;
  status: number;
  headers: Record<string, string>;
  body: string | null;
  logs: { level: string; message: string; at: number }[];
  durationMs: number;
  error: { code: string; message: string; line?: number; column?: number } | null;
}

export interface KvEntry {
  key: string;
  value: unknown;
}

export interface StreamEvent {
  id: string;
  app: string;
  script: string;
  kind: string;
  status: string;
  attempt: number;
  deadLetterId: string | null;
}

/** GET/PUT /apps/{app}/scripts/{name}/settings: the script's own settings and what it runs with. */
export interface ScriptSettingsView {
  app: string;
  script: string;
  settings: ScriptSettings;
  effective: {
    strict: { value: boolean; source: SettingSource };
    limits: Record<LimitName, { value: number; source: SettingSource }>;
  };
}

/** A secret as the API lists it: never its value. */
export interface SecretInfo {
  name: string;
  updatedAt: string;
}

export interface EgressPattern {
  pattern: string;
  createdAt: string;
}
