// What the admin API routes are given: the stores and the role services they act through.
import type { Executor } from "../executor/executor.js";
import type { Dispatcher } from "../orchestrator/dispatcher.js";
import type { Scheduler } from "../orchestrator/scheduler.js";
import type { TriggerCache } from "../orchestrator/trigger-cache.js";
import type { DeadLetterStore } from "../store/dead-letters.js";
import type { EventStore } from "../store/events.js";
import type { TriggerStore } from "../store/triggers.js";
import type { InvocationRecorder } from "../orchestrator/invocation-recorder.js";
import type { Invoker } from "../orchestrator/invoker.js";
import type { ScriptCache } from "../orchestrator/script-cache.js";
import type { Config } from "../shared/config.js";
import type { AppStore } from "../store/apps.js";
import type { InvocationStore } from "../store/invocations.js";
import type { InvocationStatsStore } from "../store/invocation-stats.js";
import type { KvStore } from "../store/kv.js";
import type { ScriptStore } from "../store/scripts.js";
import type { TokenStore } from "../store/tokens.js";
import type { AdminAuth } from "./auth.js";
import type { ControlPlane } from "./control-plane.js";
import type { RuntimeMetrics } from "./metrics.js";

export interface ApiServices {
  readonly config: Config;
  readonly apps: AppStore;
  readonly scripts: ScriptStore;
  readonly kv: KvStore;
  readonly invocations: InvocationStore;
  readonly invocationStats: InvocationStatsStore;
  readonly tokens: TokenStore;
  readonly auth: AdminAuth;
  readonly control: ControlPlane;
  readonly scriptCache: ScriptCache;
  readonly invoker: Invoker;
  readonly recorder: InvocationRecorder;
  readonly executor: Executor;
  readonly triggers: TriggerStore;
  readonly triggerCache: TriggerCache;
  readonly events: EventStore;
  readonly deadLetters: DeadLetterStore;
  readonly dispatcher: Dispatcher;
  readonly scheduler: Scheduler;
  readonly metrics: RuntimeMetrics;
}
