// A fetch-and-transform proxy in the Workers style: GET /{app}/fetch-proxy?symbol=BTC asks an upstream
// price API (UPSTREAM_URL secret, e.g. https://api.example.com) and answers a smaller, derived JSON
// with a cache header. Upstream failures become a clean 502 instead of an exception.
export default {
  /**
   * @param {Request} request
   * @param {PiEnv} env
   */
  async fetch(request, env) {
    const url = new URL(request.url);
    const symbol = (url.searchParams.get("symbol") ?? "BTC").toUpperCase();
    if (!/^[A-Z]{2,10}$/.test(symbol)) return Response.json({ error: "symbol must be 2-10 letters" }, { status: 400 });
    if (!env.UPSTREAM_URL) return Response.json({ error: "set the UPSTREAM_URL secret" }, { status: 500 });

    const upstream = new URL("/prices", env.UPSTREAM_URL);
    upstream.searchParams.set("symbol", symbol);
    let response;
    try {
      response = await fetch(upstream, { headers: { accept: "application/json" } });
    } catch (error) {
      const code = /** @type {{ code?: string }} */ (error).code ?? "FETCH_FAILED";
      return Response.json({ error: `upstream unreachable (${code})` }, { status: 502 });
    }
    if (!response.ok) return Response.json({ error: `upstream answered ${response.status}` }, { status: 502 });

    /** @type {{ symbol: string, prices: number[], currency: string }} */
    const data = await response.json();
    const prices = data.prices;
    const last = prices[prices.length - 1] ?? null;
    const average = prices.length ? prices.reduce((a, b) => a + b, 0) / prices.length : null;
    return Response.json(
      { symbol: data.symbol, currency: data.currency, last, average, samples: prices.length },
      { headers: { "cache-control": "public, max-age=60" } },
    );
  },
};
