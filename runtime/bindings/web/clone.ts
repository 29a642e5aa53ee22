// Lazy guest module: structuredClone for the types scripts pass around (plain objects, arrays,
// Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView, Error, boxed primitives), with
// cycles and shared references kept; functions and symbols throw DataCloneError, as in browsers.
export const CLONE_SOURCE = `(function (api) {
  "use strict";
  function fail(what) {
    const DOMException = globalThis.DOMException;
    throw new DOMException(what + " could not be cloned.", "DataCloneError");
  }
  function structuredClone(value, options) {
    if (options && options.transfer && options.transfer.length) fail("Transferring");
    const seen = new Map();
    function clone(v) {
      if (v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol")) return v;
      if (typeof v === "function") fail("A function");
      if (typeof v === "symbol") fail("A symbol");
      if (seen.has(v)) return seen.get(v);
      let out;
      if (Array.isArray(v)) {
        out = new Array(v.length);
        seen.set(v, out);
        for (const key of Object.keys(v)) out[key] = clone(v[key]);
        return out;
      }
      if (v instanceof Date) out = new Date(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (v instanceof ArrayBuffer) out = v.slice(0);
      else if (ArrayBuffer.isView(v)) {
        const buffer = clone(v.buffer);
        out = v instanceof DataView ? new DataView(buffer, v.byteOffset, v.byteLength) : new v.constructor(buffer, v.byteOffset, v.length);
      } else if (v instanceof Map) {
        out = new Map();
        seen.set(v, out);
        for (const [k, val] of v) out.set(clone(k), clone(val));
        return out;
      } else if (v instanceof Set) {
        out = new Set();
        seen.set(v, out);
        for (const k of v) out.add(clone(k));
        return out;
      } else if (v instanceof Error) {
        const Ctor = { EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }[v.name] || Error;
        out = new Ctor(v.message);
        if (v.stack !== undefined) out.stack = String(v.stack);
      } else if (v instanceof Number || v instanceof String || v instanceof Boolean) out = Object(v.valueOf());
      else if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet) fail("A " + Object.prototype.toString.call(v).slice(8, -1));
      else {
        out = {};
        seen.set(v, out);
        for (const key of Object.keys(v)) out[key] = clone(v[key]);
        return out;
      }
      seen.set(v, out);
      return out;
    }
    return clone(value);
  }
  return { structuredClone: structuredClone };
})`;
