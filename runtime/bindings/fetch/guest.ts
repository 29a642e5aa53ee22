// `fetch` in the sandbox: builds a Request, sends it through the channel, and the host (undici, with
// the app's egress policy and limits) makes the call. Errors carry a code: FETCH_DENIED, FETCH_TIMEOUT, ...
import type { GuestBinding } from "../channel.js";

export const fetchGuest: GuestBinding = {
  name: "fetch",
  errorName: "FetchError",
  lazy: {
    fetch: {
      globals: ["fetch"],
      source: `(function (api) {
  "use strict";
  api.load("fetch-api");
  api.load("url");
  const Request = api.Request;
  const Response = api.Response;
  async function fetch(input, init) {
    const request = input instanceof Request && init === undefined ? input : new Request(input, init);
    const body = api.bodyOf(request);
    const wire = { url: request.url, method: request.method, headers: Array.from(request.headers), redirect: request.redirect };
    if (body && body.text !== undefined) wire.text = body.text;
    else if (body && body.bytes !== undefined) wire.base64 = api.bytes.toBase64(body.bytes);
    const reply = JSON.parse(await api.call("fetch", "fetch", JSON.stringify(wire)));
    return Response._fromHost(reply);
  }
  return { fetch: fetch };
})`,
    },
  },
};
