// Lazy guest module: Headers, Request and Response (bodies held whole: text or bytes; no streams).
// `api.response` turns a returned Response into what the host sends; `api.request` builds the
// Request a Workers-style `fetch(request, env, ctx)` handler receives.
export const FETCH_API_SOURCE = `(function (api) {
  "use strict";
  // Byte helpers only when a body is bytes: a text Response never evaluates the encoding module.
  const bytes = () => {
    api.load("encoding");
    return api.bytes;
  };
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
  // Whether h behaves as this module's Headers for has() and set() (a script may replace them).
  const plain = (h) => h.has === HAS && h.set === SET;

  // A body: {text} or {bytes}, and the content type it implies.
  function extract(body) {
    if (body === undefined || body === null) return { body: null, type: null };
    if (typeof body === "string") return { body: { text: body }, type: "text/plain;charset=UTF-8" };
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { body: { bytes: bytes().view(body).slice() }, type: null };
    if (typeof URLSearchParams === "function" && body instanceof URLSearchParams) {
      return { body: { text: body.toString() }, type: "application/x-www-form-urlencoded;charset=UTF-8" };
    }
    return { body: { text: String(body) }, type: "text/plain;charset=UTF-8" };
  }

  class Body {
    #body;
    #used = false;
    constructor(body) {
      this.#body = body;
    }
    static _raw(b) {
      return b.#body;
    }
    static _put(b, body) {
      b.#body = body;
    }
    get bodyUsed() {
      return this.#used;
    }
    get body() {
      return null;
    }
    #take() {
      if (this.#used) throw new TypeError("The body has already been read.");
      this.#used = true;
      return this.#body;
    }
    async text() {
      const b = this.#take();
      if (!b) return "";
      return b.text !== undefined ? b.text : bytes().utf8Decode(b.bytes, false);
    }
    async json() {
      return JSON.parse(await this.text());
    }
    async bytes() {
      const b = this.#take();
      if (!b) return new Uint8Array(0);
      return b.bytes !== undefined ? b.bytes.slice() : bytes().utf8Encode(b.text);
    }
    async arrayBuffer() {
      return (await this.bytes()).buffer;
    }
    async formData() {
      throw new TypeError("formData() is not supported in PiCloud; read text() and use URLSearchParams.");
    }
    async blob() {
      throw new TypeError("blob() is not supported in PiCloud; use arrayBuffer().");
    }
  }

  function rawBody(value) {
    return Body._raw(value);
  }

  const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
  // Set while api.request builds the request the host received (a plain ASCII URL): see the constructor.
  let incoming = false;
  class Request extends Body {
    #url;
    #method;
    #headers;
    #redirect;
    // An incoming request's [header record, content type its body implies], until .headers is read.
    #pending;
    constructor(input, init) {
      const options = init || {};
      const from = input instanceof Request ? input : null;
      let body = options.body !== undefined ? extract(options.body) : { body: from ? rawBody(from) : null, type: null };
      let method = options.method !== undefined ? String(options.method) : from ? from.method : "GET";
      if (!TOKEN.test(method)) throw new TypeError("'" + method + "' is not a valid method.");
      if (METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
      if ((method === "GET" || method === "HEAD") && body.body !== null) throw new TypeError("A GET or HEAD request cannot have a body.");
      super(body.body);
      // The host built an incoming request's URL itself, and its headers are valid: built when read,
      // from a copy (the handler's ctx.request.headers is the same record, and a script may change it),
      // unless new Headers(record) would not do now what this module's append does.
      this.#url = from ? from.url : incoming ? input : new URL(String(input)).href;
      this.#method = method;
      if (incoming && Headers.prototype.append === APPEND && !(Symbol.iterator in options.headers)) {
        this.#pending = [Object.assign({}, options.headers), body.type];
      } else {
        this.#headers = new Headers(options.headers !== undefined ? options.headers : from ? from.headers : undefined);
        if (body.type && !this.#headers.has("content-type")) this.#headers.set("content-type", body.type);
      }
      this.#redirect = options.redirect || (from ? from.redirect : "follow");
    }
    get url() {
      return this.#url;
    }
    get method() {
      return this.#method;
    }
    get headers() {
      const pending = this.#pending;
      if (pending) {
        this.#pending = undefined;
        this.#headers = new Headers();
        Headers._fill(this.#headers, pending[0], pending[1]);
      }
      return this.#headers;
    }
    get redirect() {
      return this.#redirect;
    }
    get signal() {
      return undefined;
    }
    clone() {
      if (this.bodyUsed) throw new TypeError("Cannot clone a used request.");
      return new Request(this);
    }
    get [Symbol.toStringTag]() {
      return "Request";
    }
  }

  class Response extends Body {
    #status;
    #statusText;
    #headers;
    #url = "";
    #redirected = false;
    #type = "default";
    constructor(body, init) {
      const options = init || {};
      const status = options.status === undefined ? 200 : Number(options.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError("The status must be an integer from 200 to 599.");
      const extracted = extract(body);
      if (extracted.body !== null && (status === 204 || status === 205 || status === 304)) throw new TypeError("A null-body status cannot have a body.");
      super(extracted.body);
      this.#status = status;
      this.#statusText = options.statusText === undefined ? "" : String(options.statusText);
      this.#headers = new Headers(options.headers);
      if (!extracted.type) return;
      if (plain(this.#headers)) Headers._type(this.#headers, extracted.type, false);
      else if (!this.#headers.has("content-type")) this.#headers.set("content-type", extracted.type);
    }
    static json(data, init) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError("The value cannot be serialised as JSON.");
      const response = new Response(text, init);
      const headers = response.headers;
      // headers.set("content-type", "application/json"), unless a script replaced what that does.
      if (headers === response.#headers && plain(headers)) Headers._type(headers, "application/json", true);
      else headers.set("content-type", "application/json");
      return response;
    }
    static redirect(url, status) {
      const code = status === undefined ? 302 : status;
      if (![301, 302, 303, 307, 308].includes(code)) throw new RangeError("Invalid redirect status.");
      return new Response(null, { status: code, headers: { location: new URL(String(url)).href } });
    }
    static error() {
      const response = new Response(null, { status: 500 });
      response.#type = "error";
      return response;
    }
    // Used by fetch(): a response as the host received it.
    static _fromHost(r) {
      const response = new Response(null, { headers: r.headers });
      response.#status = r.status;
      response.#statusText = r.statusText;
      response.#url = r.url;
      response.#redirected = r.redirected;
      response.#type = "basic";
      Body._put(response, r.base64 !== undefined ? { bytes: bytes().fromBase64(r.base64) } : r.text !== undefined ? { text: r.text } : null);
      return response;
    }
    get status() {
      return this.#status;
    }
    get statusText() {
      return this.#statusText;
    }
    get ok() {
      return this.#status >= 200 && this.#status < 300;
    }
    get headers() {
      return this.#headers;
    }
    get url() {
      return this.#url;
    }
    get redirected() {
      return this.#redirected;
    }
    get type() {
      return this.#type;
    }
    clone() {
      if (this.bodyUsed) throw new TypeError("Cannot clone a used response.");
      const copy = new Response(null, { status: this.#status, statusText: this.#statusText, headers: this.#headers });
      Body._put(copy, rawBody(this));
      return copy;
    }
    get [Symbol.toStringTag]() {
      return "Response";
    }
  }
  const bodyOf = rawBody;

  // A Response the handler returned, as the host sends it: {status, headers, text | base64}.
  api.response = (value) => {
    if (!(value instanceof Response)) return undefined;
    if (value.bodyUsed) throw new TypeError("The returned Response's body was already read.");
    const given = value.headers;
    let headers;
    // Our own Headers, iterated as entries() does: read directly. Anything else (a subclass, a patched
    // iterator) is iterated as it says.
    if (given instanceof Headers && given[Symbol.iterator] === ITERATE && given.entries === ENTRIES) headers = Headers._record(given);
    else {
      headers = {};
      for (const [k, v] of given) headers[k] = headers[k] === undefined ? v : headers[k] + ", " + v;
    }
    const body = bodyOf(value);
    const out = { status: value.status, headers: headers };
    if (body && body.text !== undefined) out.text = body.text;
    else if (body && body.bytes !== undefined) out.base64 = bytes().toBase64(body.bytes);
    return out;
  };
  api.bodyOf = bodyOf;
  api.Request = Request;
  api.Response = Response;

  // The Request a Workers-style handler receives for an HTTP invocation.
  api.request = (r, raw) => {
    const host = r.headers.host || "localhost";
    const proto = r.headers["x-forwarded-proto"] === "https" ? "https" : "http";
    const init = { method: r.method, headers: r.headers };
    if (r.method !== "GET" && r.method !== "HEAD") {
      const text = raw !== undefined ? raw : r.body === null || r.body === undefined ? null : typeof r.body === "string" ? r.body : JSON.stringify(r.body);
      if (text !== null) init.body = text;
    }
    const url = proto + "://" + host + (r.url || r.path);
    // Already normalised when host and path are plain ASCII URL characters; anything else is parsed.
    incoming = /^[A-Za-z0-9.-]+(:[0-9]+)?$/.test(host) && /^\\/[!#-~]*$/.test(r.url || r.path);
    try {
      return new Request(url, init);
    } finally {
      incoming = false;
    }
  };

  return { Headers: Headers, Request: Request, Response: Response };
})`;
