// The web-standard globals (WinterTC minimum common API subset) as lazy guest modules: nothing is
// evaluated until a script touches one of them, so the plain path pays only for a few getters.
import type { GuestBinding } from "../channel.js";
import { CLONE_SOURCE } from "./clone.js";
import { ENCODING_SOURCE } from "./encoding.js";
import { FETCH_API_SOURCE } from "./fetch-api.js";
import { HEADERS_SOURCE } from "./headers.js";
import { URL_OPS, URL_SOURCE } from "./url.js";

const MODULES = {
  encoding: { globals: ["TextEncoder", "TextDecoder", "atob", "btoa", "DOMException"], source: ENCODING_SOURCE },
  url: { globals: ["URL", "URLSearchParams"], source: URL_SOURCE },
  headers: { globals: ["Headers"], source: HEADERS_SOURCE },
  "fetch-api": { globals: ["Request", "Response"], source: FETCH_API_SOURCE },
  clone: { globals: ["structuredClone"], source: CLONE_SOURCE },
} as const;

export const webBinding: GuestBinding = {
  name: "url",
  errorName: "TypeError",
  lazy: MODULES,
  worker: URL_OPS,
};
