// The host clock for sandbox timers. A delay that ends past the invocation's deadline never fires
// (the wall-time limit ends the invocation first), so no host timer outlives its invocation.
import type { HostOps, InvocationScope } from "../channel.js";

export function timersHost(_deps: unknown, scope: InvocationScope): HostOps {
  return (op, argsJson) => {
    const [ms] = JSON.parse(argsJson) as [number];
    const wait = Math.max(0, Number(ms) || 0);
    if (op !== "sleep") return Promise.reject(new Error("unknown timers op"));
    if (performance.now() + wait >= scope.deadline) return new Promise<string>(() => {});
    return new Promise((resolve) => setTimeout(() => resolve("null"), wait).unref());
  };
}
