// The host halves of the bindings (main thread): binding name -> factory of its per-invocation ops.
// Each factory receives only the invocation's scope and the dependencies it declares.
import { PiCloudError } from "../shared/errors.js";
import type { KvStore } from "../store/kv.js";
import type { HostOps, InvocationScope, SdkHost } from "./channel.js";
import type { EgressPolicy } from "./fetch/egress-policy.js";
import { fetchHost, type Resolver } from "./fetch/host.js";
import { kvHost } from "./kv/host.js";
import { timersHost } from "./timers/host.js";

/** Everything host bindings may use; each one reads only its own part. */
export interface BindingDeps {
  readonly kv: KvStore;
  /** The app's egress policy (cached; changes apply to the next call). */
  readonly egress: (app: string) => EgressPolicy | Promise<EgressPolicy>;
  /** DNS for fetch; tests inject one. */
  readonly resolver?: Resolver | undefined;
}

type HostFactory = (deps: BindingDeps, scope: InvocationScope) => HostOps;

const HOST_BINDINGS: ReadonlyMap<string, HostFactory> = new Map<string, HostFactory>([
  ["kv", kvHost],
  ["timers", timersHost],
  ["fetch", fetchHost],
]);

/** The SDK host of one invocation: each binding's ops are created on its first call. */
export function createSdkHost(deps: BindingDeps, scope: InvocationScope): SdkHost {
  let made: Map<string, HostOps> | undefined;
  return (call) => {
    let ops = made?.get(call.binding);
    if (!ops) {
      const factory = HOST_BINDINGS.get(call.binding);
      if (!factory) return Promise.reject(new PiCloudError("BAD_REQUEST", "Unknown SDK call."));
      ops = factory(deps, scope);
      made ??= new Map();
      made.set(call.binding, ops);
    }
    return ops(call.op, call.args);
  };
}
