// The executor role's interface: run one invocation of a script version in a sandbox.
import type { SdkHost } from "../bindings/channel.js";
import type { InvokeOutcome, InvokeRequest } from "../shared/wire.js";

export type { SdkHost } from "../bindings/channel.js";

export interface Executor {
  invoke(request: InvokeRequest, sdk: SdkHost): Promise<InvokeOutcome>;
  /** Drops warm instances of an app (after its settings changed or it was deleted). */
  forgetApp(app: string): void;
  close(): Promise<void>;
}
