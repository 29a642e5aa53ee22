// Serves a sandbox's `kv` calls. The app comes from the invocation this host was made for,
// never from anything the guest sends, so no argument can reach another app's data.
import { PiCloudError } from "../shared/errors.js";
import type { KvCall } from "../shared/wire.js";
import type { SdkHost } from "../executor/executor.js";
import type { KvStore, WriteOrigin } from "../store/kv.js";

function parseListOptions(json: string | undefined): { limit?: number; cursor?: string | null; prefix?: string } {
  const options: unknown = json ? JSON.parse(json) : {};
  if (!options || typeof options !== "object") throw new PiCloudError("VALIDATION_FAILED", "list() takes an options object.");
  const { limit, cursor, prefix } = options as Record<string, unknown>;
  if (limit !== undefined && typeof limit !== "number") throw new PiCloudError("VALIDATION_FAILED", "list(): limit must be a number.");
  if (cursor !== undefined && cursor !== null && typeof cursor !== "string") {
    throw new PiCloudError("KV_INVALID_CURSOR", "list(): cursor must be a string or null.");
  }
  if (prefix !== undefined && typeof prefix !== "string") throw new PiCloudError("VALIDATION_FAILED", "list(): prefix must be a string.");
  return { ...(limit !== undefined && { limit }), ...(cursor !== undefined && { cursor }), ...(prefix !== undefined && { prefix }) };
}

export function createSdkHost(kv: KvStore, app: string, origin: WriteOrigin): SdkHost {
  return async (call: KvCall): Promise<string> => {
    const { collection, key } = call;
    switch (call.op) {
      case "get":
        return (await kv.get(app, collection as string, key as string)) ?? "null";
      case "has":
        return String(await kv.has(app, collection as string, key as string));
      case "delete":
        return String(await kv.delete(app, collection as string, key as string, origin));
      case "set":
        if (call.valueJson === undefined) throw new PiCloudError("KV_INVALID_VALUE");
        await kv.set(app, collection as string, key as string, call.valueJson, origin);
        return "null";
      case "list": {
        const page = await kv.list(app, collection as string, parseListOptions(call.optionsJson));
        // Values are already JSON text: splice them in rather than parsing and re-serialising.
        const items = page.items.map((item) => `{"key":${JSON.stringify(item.key)},"value":${item.valueJson}}`).join(",");
        return `{"items":[${items}],"cursor":${JSON.stringify(page.cursor)}}`;
      }
      default:
        throw new PiCloudError("BAD_REQUEST", "Unknown SDK call.");
    }
  };
}
