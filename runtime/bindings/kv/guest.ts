// `kv` in the sandbox: argument checks that need no round trip, then one channel call per operation.
// A lazy module: evaluated the first time a script touches `kv`.
import type { GuestBinding } from "../channel.js";

export const kvGuest: GuestBinding = {
  name: "kv",
  errorName: "KvError",
  lazy: {
    kv: {
      globals: ["kv"],
      source: `(function (api) {
  "use strict";
  class KvError extends Error {
    constructor(code, message) {
      super(message);
      this.name = "KvError";
      this.code = code;
    }
  }

  function checkKey(key) {
    if (typeof key !== "string" || key.length === 0) {
      throw new KvError("KV_INVALID_KEY", "Invalid key: keys are non-empty strings.");
    }
  }

  async function call(op, args) {
    return JSON.parse(await api.call("kv", op, args));
  }

  function collection(name) {
    if (typeof name !== "string" || name.length === 0) {
      throw new KvError("KV_INVALID_COLLECTION", "Invalid collection name: use a non-empty string.");
    }
    const prefix = "[" + JSON.stringify(name) + ",";
    const keyed = (op) => async (key) => {
      checkKey(key);
      return call(op, prefix + JSON.stringify(key) + "]");
    };
    return Object.freeze({
      name: name,
      get: keyed("get"),
      has: keyed("has"),
      delete: keyed("delete"),
      async set(key, value) {
        checkKey(key);
        let json;
        try {
          json = JSON.stringify(value);
        } catch (e) {
          // A cycle or a BigInt: the same coded error as any other value JSON cannot hold.
          throw new KvError("KV_INVALID_VALUE", "Values must be JSON-serialisable: " + (e && e.message));
        }
        if (json === undefined) throw new KvError("KV_INVALID_VALUE", "Values must be JSON-serialisable (got " + typeof value + ").");
        await call("set", prefix + JSON.stringify(key) + "," + json + "]");
      },
      async list(options) {
        const opts = options === undefined ? {} : options;
        if (opts === null || typeof opts !== "object") throw new KvError("VALIDATION_FAILED", "list() takes an options object.");
        let json;
        try {
          json = JSON.stringify(opts);
        } catch (e) {
          throw new KvError("VALIDATION_FAILED", "list() options must be JSON-serialisable: " + (e && e.message));
        }
        return call("list", prefix + json + "]");
      },
    });
  }

  return { kv: Object.freeze({ collection: collection }) };
})`,
    },
  },
};
