// `crypto` in the sandbox: getRandomValues, randomUUID and crypto.subtle (digest SHA-1/256/384/512,
// HMAC importKey/sign/verify/exportKey), computed by node:crypto in the executor worker through
// synchronous ops; bytes cross as base64 text. The guest part is a lazy module: no cost until used.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { type GuestBinding, GuestCallError } from "../channel.js";

const HASHES: Readonly<Record<string, string>> = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

function hashOf(name: unknown): string {
  const hash = typeof name === "string" ? HASHES[name.toUpperCase()] : undefined;
  if (!hash) throw new GuestCallError("CRYPTO_UNSUPPORTED", `Unsupported hash algorithm: ${String(name)}.`, "NotSupportedError");
  return hash;
}

const MAX_RANDOM_BYTES = 65_536;

export const cryptoBinding: GuestBinding = {
  name: "crypto",
  errorName: "Error",
  lazy: {
    crypto: {
      globals: ["crypto", "CryptoKey", "SubtleCrypto"],
      source: `(function (api) {
  "use strict";
  api.load("encoding");
  const bytes = api.bytes;
  const sync = (op, args) => api.sync("crypto", op, JSON.stringify(args));
  const b64 = (data) => bytes.toBase64(bytes.view(data));
  const buffer = (base64) => bytes.fromBase64(base64).buffer;
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];

  function hashName(hash) {
    const name = typeof hash === "string" ? hash : hash && hash.name;
    return String(name).toUpperCase();
  }
  function algorithmName(algorithm) {
    return String(typeof algorithm === "string" ? algorithm : algorithm && algorithm.name).toUpperCase();
  }

  const secret = new WeakMap();
  class CryptoKey {
    constructor() {
      throw new TypeError("Illegal constructor: use crypto.subtle.importKey().");
    }
  }
  function makeKey(raw, hash, extractable, usages) {
    const key = Object.create(CryptoKey.prototype);
    Object.defineProperties(key, {
      type: { value: "secret", enumerable: true },
      extractable: { value: Boolean(extractable), enumerable: true },
      algorithm: { value: Object.freeze({ name: "HMAC", hash: Object.freeze({ name: hash }), length: raw.length * 8 }), enumerable: true },
      usages: { value: Object.freeze(Array.from(usages || [])), enumerable: true },
    });
    secret.set(key, raw);
    return key;
  }
  function hmacKey(key, usage) {
    const raw = secret.get(key);
    if (!raw) throw new TypeError("Expected a CryptoKey from crypto.subtle.importKey().");
    if (!key.usages.includes(usage)) throw new DOMException("The key does not allow '" + usage + "'.", "InvalidAccessError");
    return raw;
  }
  const DOMException = globalThis.DOMException;

  class SubtleCrypto {
    async digest(algorithm, data) {
      return buffer(sync("digest", [algorithmName(algorithm), b64(data)]));
    }
    async importKey(format, keyData, algorithm, extractable, usages) {
      if (algorithmName(algorithm) !== "HMAC") throw new DOMException("Only HMAC keys are supported.", "NotSupportedError");
      let raw;
      if (format === "raw") raw = bytes.view(keyData).slice();
      else if (format === "jwk" && keyData && keyData.kty === "oct" && typeof keyData.k === "string") {
        raw = bytes.fromBase64(keyData.k.replace(/-/g, "+").replace(/_/g, "/"));
        if (!raw) throw new DOMException("The JWK 'k' is not base64url.", "DataError");
      } else throw new DOMException("Unsupported key format: " + format + ".", "NotSupportedError");
      const hash = hashName(algorithm.hash);
      sync("check-hash", [hash]);
      return makeKey(raw, hash, extractable, usages);
    }
    async exportKey(format, key) {
      const raw = secret.get(key);
      if (!raw) throw new TypeError("Expected a CryptoKey.");
      if (!key.extractable) throw new DOMException("The key is not extractable.", "InvalidAccessError");
      if (format !== "raw") throw new DOMException("Only 'raw' export is supported.", "NotSupportedError");
      return raw.slice().buffer;
    }
    async sign(algorithm, key, data) {
      if (algorithmName(algorithm) !== "HMAC") throw new DOMException("Only HMAC is supported.", "NotSupportedError");
      return buffer(sync("hmac", [key.algorithm.hash.name, bytes.toBase64(hmacKey(key, "sign")), b64(data)]));
    }
    async verify(algorithm, key, signature, data) {
      if (algorithmName(algorithm) !== "HMAC") throw new DOMException("Only HMAC is supported.", "NotSupportedError");
      return sync("hmac-verify", [key.algorithm.hash.name, bytes.toBase64(hmacKey(key, "verify")), b64(data), b64(signature)]) === "true";
    }
  }
  const subtle = Object.create(SubtleCrypto.prototype);

  const crypto = {
    subtle: subtle,
    getRandomValues(array) {
      if (!INTEGER_ARRAYS.some((T) => array instanceof T)) throw new DOMException("getRandomValues takes an integer typed array.", "TypeMismatchError");
      if (array.byteLength > 65536) throw new DOMException("getRandomValues is limited to 65536 bytes.", "QuotaExceededError");
      const random = bytes.fromBase64(sync("random", [array.byteLength]));
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random);
      return array;
    },
    randomUUID() {
      return JSON.parse(sync("uuid", []));
    },
  };
  return { crypto: crypto, CryptoKey: CryptoKey, SubtleCrypto: SubtleCrypto };
})`,
    },
  },
  worker: {
    random(argsJson) {
      const [n] = JSON.parse(argsJson) as [number];
      if (!Number.isInteger(n) || n < 0 || n > MAX_RANDOM_BYTES) throw new GuestCallError("VALIDATION_FAILED", "Bad length.");
      return randomBytes(n).toString("base64");
    },
    uuid() {
      return JSON.stringify(randomUUID());
    },
    digest(argsJson) {
      const [algorithm, data] = JSON.parse(argsJson) as [string, string];
      return createHash(hashOf(algorithm)).update(Buffer.from(data, "base64")).digest("base64");
    },
    "check-hash"(argsJson) {
      hashOf((JSON.parse(argsJson) as [string])[0]);
      return "null";
    },
    hmac(argsJson) {
      const [hash, key, data] = JSON.parse(argsJson) as [string, string, string];
      return createHmac(hashOf(hash), Buffer.from(key, "base64")).update(Buffer.from(data, "base64")).digest("base64");
    },
    "hmac-verify"(argsJson) {
      const [hash, key, data, signature] = JSON.parse(argsJson) as [string, string, string, string];
      const expected = createHmac(hashOf(hash), Buffer.from(key, "base64")).update(Buffer.from(data, "base64")).digest();
      const given = Buffer.from(signature, "base64");
      return String(given.length === expected.length && timingSafeEqual(given, expected));
    },
  },
};
