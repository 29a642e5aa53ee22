// Everything the admin API's route modules may be given. Each route module declares the part it
// uses (`Pick<ApiServices, ...>`), so a module's signature says what it depends on.
import type { EventChange } from "../orchestrator/dispatcher.js";
import type { DeadLetterStore } from "../store/dead-letters.js";
import type { EventStore } from "../store/events.js";
import type { TriggerStore } from "../store/triggers.js";
import type { InvocationRecorder } from "../orchestrator/invocation-recorder.js";
import type { Invoker } from "../orchestrator/invoker.js";
import type { ScriptCache } from "../orchestrator/script-cache.js";
import type { TriggerCache } from "../orchestrator/trigger-cache.js";
import type { AppBindingsCache } from "../orchestrator/app-bindings-cache.js";
import type { Config } from "../shared/config.js";
import type { EgressStore } from "../store/egress.js";
import type { SecretStore } from "../store/secrets.js";
import type { AppStore } from "../store/apps.js";
import type { InvocationStore } from "../store/invocations.js";
import type { InvocationStatsStore } from "../store/invocation-stats.js";
import type { KvStore } from "../store/kv.js";
import type { ScriptStore } from "../store/scripts.js";
import type { NodeStore } from "../store/nodes.js";
import type { TokenStore } from "../store/tokens.js";
import type { AdminAuth } from "../core/auth.js";
import type { ControlPlane } from "./control-plane.js";
import type { ScriptEndpoints } from "./script-endpoints.js";

/** Event state changes made in this process (the node's dispatcher), for the live stream. */
export interface EventFeed {
  subscribe(listener: (change: EventChange) => void): () => void;
}

export interface ApiServices {
  readonly config: Config;
  readonly secrets: SecretStore;
  readonly egress: EgressStore;
  readonly appBindings: AppBindingsCache;
  readonly apps: AppStore;
  readonly scripts: ScriptStore;
  readonly kv: KvStore;
  readonly invocations: InvocationStore;
  readonly invocationStats: InvocationStatsStore;
  readonly tokens: TokenStore;
  readonly auth: AdminAuth;
  readonly control: ControlPlane;
  readonly scriptCache: ScriptCache;
  /** Runs test invocations (the node's in `serve`, the manager's own otherwise). */
  readonly invoker: Invoker;
  readonly recorder: InvocationRecorder;
  readonly triggers: TriggerStore;
  readonly triggerCache: TriggerCache;
  readonly events: EventStore;
  readonly deadLetters: DeadLetterStore;
  readonly dispatcher: EventFeed;
  readonly nodes: NodeStore;
  /** Where script endpoints are served, for the URLs the API hands out. */
  readonly endpoints: ScriptEndpoints;
}
