// Lazy guest module: Request and Response (bodies held whole: text or bytes; no streams).
// `api.response` turns a returned Response into what the host sends; `api.request` builds the
// Request a Workers-style `fetch(request, env, ctx)` handler receives. Their Headers (headers.ts) are
// made when first read (a Response's own or given ones at once): a run that never reads a header
// never compiles the Headers module.
export const FETCH_API_SOURCE = `(function (api) {
  "use strict";
  // Byte helpers only when a body is bytes: a text Response never evaluates the encoding module.
  const bytes = () => {
    api.load("encoding");
    return api.bytes;
  };
  const TOKEN = /^[!#$%&'*+.^_\`|~0-9A-Za-z-]+$/;
  const H = () => (api.load("headers"), api.Headers);
  // Whether Headers made later behave as made now: not loaded yet (nothing can have replaced a method) or untouched.
  const pristine = () => api.Headers === undefined || api.headersPristine();

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
      if (incoming && pristine() && !(Symbol.iterator in options.headers)) {
        this.#pending = [Object.assign({}, options.headers), body.type];
      } else {
        this.#headers = new (H())(options.headers !== undefined ? options.headers : from ? from.headers : undefined);
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
        const Headers = H();
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

  // Response's headers getter, to know a Response's headers are read as this module defines.
  let HEADERS;
  class Response extends Body {
    #status;
    #statusText;
    // Undefined until made: then the content type (or null) the body implies is in #ctype.
    #headers;
    #ctype = null;
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
      if (options.headers === undefined && pristine()) {
        this.#ctype = extracted.type;
        return;
      }
      const Headers = H();
      this.#headers = new Headers(options.headers);
      if (!extracted.type) return;
      if (api.headersPlain(this.#headers)) Headers._type(this.#headers, extracted.type, false);
      else if (!this.#headers.has("content-type")) this.#headers.set("content-type", extracted.type);
    }
    // The headers, made now if they were not: new Headers() and then set("content-type", #ctype) as
    // the constructor would have (only when nothing could have replaced those methods).
    #made() {
      if (this.#headers === undefined) {
        const Headers = H();
        this.#headers = new Headers();
        Headers._type(this.#headers, this.#ctype, false);
      }
      return this.#headers;
    }
    // Whether reading value.headers runs this module's getter: a Response, not a subclass, prototype untouched.
    static _ownHeaders(value) {
      return Object.getPrototypeOf(value) === Response.prototype && Object.getOwnPropertyDescriptor(Response.prototype, "headers").get === HEADERS;
    }
    // The record the host sends for headers not made yet (what iterating the made ones gives).
    static _pending(value) {
      if (value.#headers !== undefined || !pristine()) return undefined;
      const out = {};
      if (value.#ctype) out["content-type"] = value.#ctype;
      return out;
    }
    static json(data, init) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError("The value cannot be serialised as JSON.");
      const response = new Response(text, init);
      // response.headers.set("content-type", "application/json"), unless a script replaced what that does.
      if (response.#headers === undefined && pristine() && Response._ownHeaders(response)) {
        response.#ctype = "application/json";
        return response;
      }
      const headers = response.headers;
      if (headers === response.#headers && api.headersPlain(headers)) H()._type(headers, "application/json", true);
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
      return this.#made();
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
      const copy = new Response(null, { status: this.#status, statusText: this.#statusText, headers: this.#made() });
      Body._put(copy, rawBody(this));
      return copy;
    }
    get [Symbol.toStringTag]() {
      return "Response";
    }
  }
  HEADERS = Object.getOwnPropertyDescriptor(Response.prototype, "headers").get;
  const bodyOf = rawBody;

  // A Response the handler returned, as the host sends it: {status, headers, text | base64}.
  api.response = (value) => {
    if (!(value instanceof Response)) return undefined;
    if (value.bodyUsed) throw new TypeError("The returned Response's body was already read.");
    // Headers not made yet: the record they would give. Our own Headers, iterated as entries() does:
    // read directly. Anything else (a subclass, a patched iterator) is iterated as it says.
    let headers = Response._ownHeaders(value) ? Response._pending(value) : undefined;
    if (headers === undefined) {
      const given = value.headers;
      if (api.Headers !== undefined && api.headersIterate(given)) headers = api.Headers._record(given);
      else {
        headers = {};
        for (const [k, v] of given) headers[k] = headers[k] === undefined ? v : headers[k] + ", " + v;
      }
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

  return { Request: Request, Response: Response };
})`;
