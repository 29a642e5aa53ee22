// Lazy guest module: URL (parsed and serialised by the host's WHATWG parser, node:url, through a
// synchronous worker op: no hand-written URL parser in the sandbox) and URLSearchParams
// (application/x-www-form-urlencoded, as the URL standard specifies it).
import { GuestCallError } from "../channel.js";

export const URL_SOURCE = `(function (api) {
  "use strict";
  api.load("encoding");
  const bytes = api.bytes;
  const COMPONENTS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];

  function percentDecode(text) {
    const input = bytes.utf8Encode(text);
    const out = new Uint8Array(input.length);
    let o = 0;
    for (let i = 0; i < input.length; i++) {
      const b = input[i];
      if (b === 37 && i + 2 < input.length) {
        const hex = String.fromCharCode(input[i + 1], input[i + 2]);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
          out[o++] = parseInt(hex, 16);
          i += 2;
          continue;
        }
      }
      out[o++] = b;
    }
    return bytes.utf8Decode(out.subarray(0, o), false);
  }

  function formEncode(text) {
    const input = bytes.utf8Encode(text);
    let out = "";
    for (let i = 0; i < input.length; i++) {
      const b = input[i];
      if ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 42 || b === 45 || b === 46 || b === 95) out += String.fromCharCode(b);
      else if (b === 32) out += "+";
      else out += "%" + (b < 16 ? "0" : "") + b.toString(16).toUpperCase();
    }
    return out;
  }

  function parseForm(text) {
    const list = [];
    for (const part of text.split("&")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      const name = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? "" : part.slice(eq + 1);
      list.push([percentDecode(name.replace(/\\+/g, " ")), percentDecode(value.replace(/\\+/g, " "))]);
    }
    return list;
  }

  const toUSV = (value) => bytes.utf8Decode(bytes.utf8Encode(String(value)), false);

  class URLSearchParams {
    #list = [];
    #url = null;
    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof URLSearchParams) this.#list = init.#list.map((p) => [p[0], p[1]]);
      else if (typeof init === "object" && typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError("Each URLSearchParams pair must have exactly two items.");
          this.#list.push([toUSV(p[0]), toUSV(p[1])]);
        }
      } else if (typeof init === "object") {
        for (const key of Object.keys(init)) this.#list.push([toUSV(key), toUSV(init[key])]);
      } else {
        const s = toUSV(init);
        this.#list = parseForm(s.charAt(0) === "?" ? s.slice(1) : s);
      }
    }
    static _attach(params, url, query) {
      params.#url = url;
      params.#list = parseForm(query);
    }
    static _reset(params, query) {
      params.#list = parseForm(query);
    }
    #update() {
      if (this.#url) this.#url._setSearchFromParams(this.toString());
    }
    get size() {
      return this.#list.length;
    }
    append(name, value) {
      this.#list.push([toUSV(name), toUSV(value)]);
      this.#update();
    }
    delete(name, value) {
      const n = toUSV(name);
      const v = value === undefined ? undefined : toUSV(value);
      this.#list = this.#list.filter((p) => !(p[0] === n && (v === undefined || p[1] === v)));
      this.#update();
    }
    get(name) {
      const n = toUSV(name);
      const found = this.#list.find((p) => p[0] === n);
      return found ? found[1] : null;
    }
    getAll(name) {
      const n = toUSV(name);
      return this.#list.filter((p) => p[0] === n).map((p) => p[1]);
    }
    has(name, value) {
      const n = toUSV(name);
      const v = value === undefined ? undefined : toUSV(value);
      return this.#list.some((p) => p[0] === n && (v === undefined || p[1] === v));
    }
    set(name, value) {
      const n = toUSV(name);
      const v = toUSV(value);
      const i = this.#list.findIndex((p) => p[0] === n);
      if (i < 0) this.#list.push([n, v]);
      else {
        this.#list[i][1] = v;
        this.#list = this.#list.filter((p, j) => j <= i || p[0] !== n);
      }
      this.#update();
    }
    sort() {
      // Stable, by UTF-16 code units (Array.prototype.sort is stable).
      this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.#update();
    }
    forEach(callback, thisArg) {
      for (const p of this.#list.slice()) callback.call(thisArg, p[1], p[0], this);
    }
    *entries() {
      for (const p of this.#list.slice()) yield [p[0], p[1]];
    }
    *keys() {
      for (const p of this.#list.slice()) yield p[0];
    }
    *values() {
      for (const p of this.#list.slice()) yield p[1];
    }
    [Symbol.iterator]() {
      return this.entries();
    }
    toString() {
      return this.#list.map((p) => formEncode(p[0]) + "=" + formEncode(p[1])).join("&");
    }
    get [Symbol.toStringTag]() {
      return "URLSearchParams";
    }
  }

  function parse(input, base) {
    return JSON.parse(api.sync("url", "parse", JSON.stringify(base === undefined ? [toUSV(input)] : [toUSV(input), toUSV(base)])));
  }

  class URL {
    #c;
    #params;
    constructor(input, base) {
      this.#c = parse(input, base);
      this.#params = new URLSearchParams();
      URLSearchParams._attach(this.#params, this, this.#c.search.slice(1));
    }
    static canParse(input, base) {
      try {
        parse(input, base);
        return true;
      } catch (e) {
        return false;
      }
    }
    static parse(input, base) {
      try {
        return new URL(input, base);
      } catch (e) {
        return null;
      }
    }
    #set(name, value) {
      this.#c = JSON.parse(api.sync("url", "set", JSON.stringify([this.#c.href, name, toUSV(value)])));
      if (name === "href" || name === "search") URLSearchParams._reset(this.#params, this.#c.search.slice(1));
    }
    static _get(url, name) {
      return url.#c[name];
    }
    static _put(url, name, value) {
      url.#set(name, value);
    }
    _setSearchFromParams(query) {
      this.#c = JSON.parse(api.sync("url", "set", JSON.stringify([this.#c.href, "search", query])));
    }
    get searchParams() {
      return this.#params;
    }
    toString() {
      return this.#c.href;
    }
    toJSON() {
      return this.#c.href;
    }
    get [Symbol.toStringTag]() {
      return "URL";
    }
  }
  for (const name of COMPONENTS) {
    const descriptor = {
      get() {
        return URL._get(this, name);
      },
      configurable: true,
      enumerable: true,
    };
    if (name !== "origin") {
      descriptor.set = function (value) {
        URL._put(this, name, value);
      };
    }
    Object.defineProperty(URL.prototype, name, descriptor);
  }
  return { URL: URL, URLSearchParams: URLSearchParams };
})`;

type Components = Record<(typeof COMPONENT_NAMES)[number], string>;
const COMPONENT_NAMES = [
  "href",
  "origin",
  "protocol",
  "username",
  "password",
  "host",
  "hostname",
  "port",
  "pathname",
  "search",
  "hash",
] as const;

function components(url: URL): string {
  const out = {} as Components;
  for (const name of COMPONENT_NAMES) out[name] = url[name];
  return JSON.stringify(out);
}

function parseOrThrow(input: string, base?: string): URL {
  try {
    return new URL(input, base);
  } catch {
    throw new GuestCallError("URL_INVALID", `Invalid URL: ${JSON.stringify(input.slice(0, 200))}`, "TypeError");
  }
}

/** Worker ops: Node's WHATWG URL parser (ada) does the parsing and every setter. */
export const URL_OPS = {
  parse(argsJson: string): string {
    const [input, base] = JSON.parse(argsJson) as [string, string | undefined];
    return components(parseOrThrow(String(input), base === undefined ? undefined : String(base)));
  },
  set(argsJson: string): string {
    const [href, name, value] = JSON.parse(argsJson) as [string, string, string];
    const url = parseOrThrow(href);
    if ((COMPONENT_NAMES as readonly string[]).includes(name) && name !== "origin") {
      if (name === "href") return components(parseOrThrow(String(value)));
      (url as unknown as Record<string, string>)[name] = String(value);
    }
    return components(url);
  },
};
