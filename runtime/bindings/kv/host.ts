// `kv` on the host: runs a sandbox's KV operations against the store, for the invocation's app only.
// The app comes from the scope the host was made for, never from the arguments, so no call can reach
// another app's data.
import { PiCloudError } from "../../shared/errors.js";
import type { KvStore } from "../../store/kv.js";
import type { HostOps, InvocationScope } from "../channel.js";

function parseListOptions(options: unknown): { limit?: number; cursor?: string | null; prefix?: string } {
  if (!options || typeof options !== "object") throw new PiCloudError("VALIDATION_FAILED", "list() takes an options object.");
  const { limit, cursor, prefix } = options as Record<string, unknown>;
  if (limit !== undefined && typeof limit !== "number") throw new PiCloudError("VALIDATION_FAILED", "list(): limit must be a number.");
  if (cursor !== undefined && cursor !== null && typeof cursor !== "string") {
    throw new PiCloudError("KV_INVALID_CURSOR", "list(): cursor must be a string or null.");
  }
  if (prefix !== undefined && typeof prefix !== "string") throw new PiCloudError("VALIDATION_FAILED", "list(): prefix must be a string.");
  return { ...(limit !== undefined && { limit }), ...(cursor !== undefined && { cursor }), ...(prefix !== undefined && { prefix }) };
}

export function kvHost(deps: { readonly kv: KvStore }, scope: Pick<InvocationScope, "app" | "origin">): HostOps {
  const { kv } = deps;
  const { app, origin } = scope;
  return async (op, argsJson) => {
    // [collection, key, value?] or [collection, listOptions]; the store validates names and keys.
    const args = JSON.parse(argsJson) as unknown[];
    const collection = args[0] as string;
    const key = args[1] as string;
    switch (op) {
      case "get":
        return (await kv.get(app, collection, key)) ?? "null";
      case "has":
        return String(await kv.has(app, collection, key));
      case "delete":
        return String(await kv.delete(app, collection, key, origin));
      case "set": {
        const valueJson = args.length > 2 ? JSON.stringify(args[2]) : undefined;
        if (valueJson === undefined) throw new PiCloudError("KV_INVALID_VALUE");
        await kv.set(app, collection, key, valueJson, origin);
        return "null";
      }
      case "list": {
        const page = await kv.list(app, collection, parseListOptions(args[1]));
        // Values are already JSON text: splice them in rather than parsing and re-serialising.
        const items = page.items.map((item) => `{"key":${JSON.stringify(item.key)},"value":${item.valueJson}}`).join(",");
        return `{"items":[${items}],"cursor":${JSON.stringify(page.cursor)}}`;
      }
      default:
        throw new PiCloudError("BAD_REQUEST", "Unknown SDK call.");
    }
  };
}
