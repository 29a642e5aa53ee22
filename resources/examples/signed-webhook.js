// A signed-webhook receiver in the Workers style: verifies the HMAC-SHA256 signature of the raw body
// (header `x-signature-256: sha256=<hex>`, as GitHub sends it) with the WEBHOOK_SECRET secret, stores
// the event, and posts a message to a chat API (CHAT_URL secret; open its host with `picloud egress
// allow` if it is on your LAN).
//   picloud secrets set WEBHOOK_SECRET --app hooks
//   picloud secrets set CHAT_URL --app hooks
const encoder = new TextEncoder();

/** @param {string} hex */
function fromHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export default {
  /**
   * @param {Request} request
   * @param {PiEnv} env
   * @param {PiExecutionContext} ctx
   */
  async fetch(request, env, ctx) {
    if (request.method !== "POST") return new Response("POST a webhook here", { status: 405 });
    const body = await request.text();
    const signature = request.headers.get("x-signature-256") ?? "";
    if (!env.WEBHOOK_SECRET || !/^sha256=[0-9a-f]{64}$/.test(signature)) return new Response("missing signature", { status: 401 });
    const key = await crypto.subtle.importKey("raw", encoder.encode(env.WEBHOOK_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    const valid = await crypto.subtle.verify("HMAC", key, fromHex(signature.slice(7)), encoder.encode(body));
    if (!valid) return new Response("bad signature", { status: 401 });

    /** @type {{ action?: string, repository?: { full_name?: string } }} */
    const event = JSON.parse(body);
    const id = request.headers.get("x-delivery-id") ?? crypto.randomUUID();
    await kv.collection("webhooks").set(id, { action: event.action ?? null, receivedAt: new Date().toISOString() });

    if (env.CHAT_URL) {
      const text = `${event.repository?.full_name ?? "a repository"}: ${event.action ?? "event"}`;
      const posted = await fetch(env.CHAT_URL, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) });
      if (!posted.ok) console.warn(`chat API answered ${posted.status}`);
    }
    ctx.waitUntil(Promise.resolve());
    return Response.json({ received: id }, { status: 202 });
  },
};
