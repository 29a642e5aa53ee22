// The app's dead-letter handler: keeps a digest of what failed for good, for a human to look at.
//   picloud deploy resources/examples/dead-letter-alert.js --app shop
//   picloud triggers add --app shop --script dead-letter-alert --dead-letter

/** @param {PiContext} ctx */
export default async function (ctx) {
  if (ctx.event?.type !== "dead_letter") return;
  const last = ctx.event.attempts.at(-1);
  await kv.collection("alerts").set(ctx.event.deadLetterId, {
    script: ctx.event.script,
    event: ctx.event.event,
    attempts: ctx.event.attempts.length,
    lastError: last?.error.message ?? null,
  });
  console.warn(`${ctx.event.script} gave up on an event: ${last?.error.message}`);
}
