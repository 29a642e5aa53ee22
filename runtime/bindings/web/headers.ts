// Lazy guest module: Headers (the Fetch standard's header list, names lower-cased, values trimmed).
// Its own module, apart from Request and Response (fetch-api.ts): a Workers-style run that never
// reads a header (a hello returning Response.json) never compiles it, which a fresh instance (strict
// mode) would otherwise do on every run.
export const HEADERS_SOURCE = `(function (api) {
  "use strict";
  const TOKEN = /^[!#$%&'*+.^_\`|~0-9A-Za-z-]+$/;

  function normaliseValue(value) {
    const v = String(value).replace(/^[\\t\\n\\r ]+|[\\t\\n\\r ]+$/g, "");
    if (/[\\r\\n\\0]/.test(v)) throw new TypeError("Invalid header value.");
    return v;
  }
  function checkName(name) {
    const n = String(name);
    if (!TOKEN.test(n)) throw new TypeError("'" + n + "' is not a valid header name.");
    return n.toLowerCase();
  }

  function add(map, name, value) {
    const n = checkName(name);
    const list = map.get(n);
    if (list) list.push(normaliseValue(value));
    else map.set(n, [normaliseValue(value)]);
  }

  class Headers {
    #map = new Map();
    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof Headers) {
        for (const [k, v] of init.#map) this.#map.set(k, v.slice());
      } else if (typeof init === "object" && typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError("Each header pair must have exactly two items.");
          this.append(p[0], p[1]);
        }
      } else if (typeof init === "object") {
        for (const key of Object.keys(init)) this.append(key, init[key]);
      } else throw new TypeError("Headers takes an object, an array of pairs or Headers.");
    }
    append(name, value) {
      add(this.#map, name, value);
    }
    set(name, value) {
      this.#map.set(checkName(name), [normaliseValue(value)]);
    }
    get(name) {
      const list = this.#map.get(checkName(name));
      return list ? list.join(", ") : null;
    }
    getSetCookie() {
      return (this.#map.get("set-cookie") || []).slice();
    }
    has(name) {
      return this.#map.has(checkName(name));
    }
    delete(name) {
      this.#map.delete(checkName(name));
    }
    forEach(callback, thisArg) {
      for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
    }
    *entries() {
      const names = Array.from(this.#map.keys()).sort();
      for (const name of names) {
        const list = this.#map.get(name);
        if (!list) continue;
        if (name === "set-cookie") for (const v of list) yield [name, v];
        else yield [name, list.join(", ")];
      }
    }
    *keys() {
      for (const [k] of this.entries()) yield k;
    }
    *values() {
      for (const [, v] of this.entries()) yield v;
    }
    [Symbol.iterator]() {
      return this.entries();
    }
    get [Symbol.toStringTag]() {
      return "Headers";
    }
    // Ours only: what new Headers(record) and then a content type if it has none make, with the methods
    // as this module defines them (a script may have replaced the prototype's since).
    static _fill(h, record, type) {
      for (const key of Object.keys(record)) add(h.#map, key, record[key]);
      Headers._type(h, type, false);
    }
    // set("content-type", type) (our own constant, already normalised); unless replacing, only if it has none.
    static _type(h, type, replacing) {
      if (type && (replacing || !h.#map.has("content-type"))) h.#map.set("content-type", [type]);
    }
    // The headers as a record, exactly as iterating them (entries()) and joining repeats with ", " gives.
    static _record(h) {
      const out = {};
      const names = Array.from(h.#map.keys()).sort();
      for (const name of names) out[name] = h.#map.get(name).join(", ");
      return out;
    }
  }
  const { append: APPEND, has: HAS, set: SET, entries: ENTRIES, [Symbol.iterator]: ITERATE } = Headers.prototype;
  api.Headers = Headers;
  // What fetch-api may do without calling a Headers method a script can replace: whether h's has()
  // and set() are ours; whether iterating h is ours (entries() sorted, repeats joined).
  api.headersPlain = (h) => h.has === HAS && h.set === SET;
  api.headersIterate = (h) => h instanceof Headers && h[Symbol.iterator] === ITERATE && h.entries === ENTRIES;
  // Whether the prototype's methods are all still ours: a Headers built later behaves as one built now.
  api.headersPristine = () => {
    const p = Headers.prototype;
    return p.append === APPEND && api.headersPlain(p) && p.entries === ENTRIES && p[Symbol.iterator] === ITERATE;
  };
  return { Headers: Headers };

})`;
