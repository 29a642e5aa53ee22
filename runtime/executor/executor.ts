// The executor role's interface: run one invocation of a script version in a sandbox.
import type { InvokeOutcome, InvokeRequest, KvCall } from "../shared/wire.js";

/** Serves the SDK calls of one invocation; bound to that invocation's app by the caller, never by the guest. */
export type SdkHost = (call: KvCall) => Promise<string>;

export interface Executor {
  invoke(request: InvokeRequest, sdk: SdkHost): Promise<InvokeOutcome>;
  /** Drops warm instances of an app (after its settings changed or it was deleted). */
  forgetApp(app: string): void;
  close(): Promise<void>;
}
