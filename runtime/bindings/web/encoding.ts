// Lazy guest module: TextEncoder, TextDecoder (UTF-8, WHATWG decoder with replacement), atob, btoa,
// DOMException, and the byte helpers other modules share through `api.bytes`.
export const ENCODING_SOURCE = `(function (api) {
  "use strict";
  class DOMException extends Error {
    constructor(message, name) {
      super(message === undefined ? "" : String(message));
      this.name = name === undefined ? "Error" : String(name);
    }
  }
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const LOOKUP = new Uint8Array(256).fill(255);
  for (let i = 0; i < 64; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

  function fromCodes(codes) {
    let out = "";
    for (let i = 0; i < codes.length; i += 8192) out += String.fromCharCode.apply(null, codes.slice(i, i + 8192));
    return out;
  }

  function toBase64(bytes) {
    const parts = [];
    let chunk = "";
    const n = bytes.length;
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      chunk += ALPHABET[(v >> 18) & 63] + ALPHABET[(v >> 12) & 63] + ALPHABET[(v >> 6) & 63] + ALPHABET[v & 63];
      if (chunk.length >= 8192) {
        parts.push(chunk);
        chunk = "";
      }
    }
    if (i < n) {
      const v = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
      chunk += ALPHABET[(v >> 18) & 63] + ALPHABET[(v >> 12) & 63] + (i + 1 < n ? ALPHABET[(v >> 6) & 63] : "=") + "=";
    }
    parts.push(chunk);
    return parts.join("");
  }

  // Forgiving base64 (WHATWG): ASCII whitespace ignored, padding optional; null when malformed.
  function fromBase64(text) {
    let s = String(text).replace(/[\\t\\n\\f\\r ]+/g, "");
    if (s.length % 4 === 0) s = s.replace(/==?$/, "");
    if (s.length % 4 === 1) return null;
    const out = new Uint8Array(Math.floor((s.length * 3) / 4));
    let bits = 0;
    let value = 0;
    let o = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const d = c < 256 ? LOOKUP[c] : 255;
      if (d === 255) return null;
      value = (value << 6) | d;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[o++] = (value >> bits) & 255;
      }
    }
    return out;
  }

  function utf8Encode(input) {
    const s = String(input);
    const out = new Uint8Array(s.length * 3);
    let o = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        out[o++] = c;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
        } else {
          c = 0xfffd;
        }
      }
      if (c < 0x800) {
        out[o++] = 0xc0 | (c >> 6);
        out[o++] = 0x80 | (c & 63);
      } else if (c < 0x10000) {
        out[o++] = 0xe0 | (c >> 12);
        out[o++] = 0x80 | ((c >> 6) & 63);
        out[o++] = 0x80 | (c & 63);
      } else {
        out[o++] = 0xf0 | (c >> 18);
        out[o++] = 0x80 | ((c >> 12) & 63);
        out[o++] = 0x80 | ((c >> 6) & 63);
        out[o++] = 0x80 | (c & 63);
      }
    }
    return out.slice(0, o);
  }

  // The WHATWG UTF-8 decoder: each maximal invalid subpart becomes one U+FFFD (or a TypeError when fatal).
  function utf8Decode(bytes, fatal) {
    const codes = [];
    let cp = 0;
    let needed = 0;
    let seen = 0;
    let lower = 0x80;
    let upper = 0xbf;
    const fail = () => {
      if (fatal) throw new TypeError("The encoded data is not valid UTF-8.");
      codes.push(0xfffd);
    };
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (needed === 0) {
        if (b <= 0x7f) codes.push(b);
        else if (b >= 0xc2 && b <= 0xdf) {
          needed = 1;
          cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) lower = 0xa0;
          if (b === 0xed) upper = 0x9f;
          needed = 2;
          cp = b & 0xf;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) lower = 0x90;
          if (b === 0xf4) upper = 0x8f;
          needed = 3;
          cp = b & 7;
        } else fail();
        continue;
      }
      if (b < lower || b > upper) {
        cp = needed = seen = 0;
        lower = 0x80;
        upper = 0xbf;
        fail();
        i--;
        continue;
      }
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
      if (++seen === needed) {
        if (cp > 0xffff) {
          cp -= 0x10000;
          codes.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else codes.push(cp);
        cp = needed = seen = 0;
      }
    }
    if (needed !== 0) fail();
    return fromCodes(codes);
  }

  /** Any BufferSource as a Uint8Array view (no copy). */
  function view(input) {
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError("Expected an ArrayBuffer or a typed array.");
  }

  api.bytes = { toBase64: toBase64, fromBase64: fromBase64, utf8Encode: utf8Encode, utf8Decode: utf8Decode, view: view };

  class TextEncoder {
    get encoding() {
      return "utf-8";
    }
    encode(input) {
      return utf8Encode(input === undefined ? "" : input);
    }
    encodeInto(source, destination) {
      const bytes = utf8Encode(source);
      let n = Math.min(bytes.length, destination.length);
      while (n > 0 && n < bytes.length && (bytes[n] & 0xc0) === 0x80) n--;
      destination.set(bytes.subarray(0, n));
      return { read: utf8Decode(bytes.subarray(0, n), false).length, written: n };
    }
  }

  const LABELS = ["utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"];
  class TextDecoder {
    #fatal;
    #ignoreBOM;
    constructor(label, options) {
      const name = label === undefined ? "utf-8" : String(label).trim().toLowerCase();
      if (!LABELS.includes(name)) throw new RangeError("Only UTF-8 is supported (got '" + label + "').");
      this.#fatal = Boolean(options && options.fatal);
      this.#ignoreBOM = Boolean(options && options.ignoreBOM);
    }
    get encoding() {
      return "utf-8";
    }
    get fatal() {
      return this.#fatal;
    }
    get ignoreBOM() {
      return this.#ignoreBOM;
    }
    decode(input) {
      if (input === undefined) return "";
      let bytes = view(input);
      if (!this.#ignoreBOM && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      return utf8Decode(bytes, this.#fatal);
    }
  }

  function btoa(data) {
    const s = String(data);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw new DOMException("btoa: the string contains characters outside Latin-1.", "InvalidCharacterError");
      bytes[i] = c;
    }
    return toBase64(bytes);
  }

  function atob(data) {
    const bytes = fromBase64(data);
    if (bytes === null) throw new DOMException("atob: the string is not correctly encoded.", "InvalidCharacterError");
    return fromCodes(Array.from(bytes));
  }

  return { TextEncoder: TextEncoder, TextDecoder: TextDecoder, atob: atob, btoa: btoa, DOMException: DOMException };
})`;
