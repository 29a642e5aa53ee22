// A KV-triggered handler: ships new orders, and refuses (without retrying) orders that can never ship.
//   picloud deploy resources/examples/order-shipper.js --app shop
//   picloud triggers add --app shop --script order-shipper --kv orders --ops insert --max-attempts 5
//   picloud kv set orders o-1 '{"address": "1 Main St", "items": ["book"]}' --app shop

/** @param {PiContext} ctx */
export default async function (ctx) {
  if (ctx.event?.type !== "kv") return { error: "this script runs on KV events" };
  const order = /** @type {{ address?: string, items?: string[] }} */ (ctx.event.value);
  if (!order.items?.length) throw new NonRetriableError(`order ${ctx.event.key} has no items`);
  if (!order.address) throw new Error(`order ${ctx.event.key} has no address yet`); // retried with backoff
  // ctx.eventId is stable across retries: writing under it makes the handler idempotent.
  await kv.collection("shipments").set(ctx.event.key, { eventId: ctx.eventId, address: order.address, at: new Date().toISOString() });
  console.log(`shipped ${ctx.event.key} on attempt ${ctx.attempt}`);
}
