// A scheduled TypeScript script: counts yesterday's shipments every night at 02:00 Berlin time.
//   picloud deploy resources/examples/nightly-report.ts --app shop
//   picloud triggers add --app shop --script nightly-report --cron "0 2 * * *" --tz Europe/Berlin

interface Shipment {
  address: string;
  at: string;
}

export default async function (ctx: PiContext): Promise<void> {
  const shipments = kv.collection<Shipment>("shipments");
  let count = 0;
  let cursor: string | null = null;
  do {
    const page = await shipments.list({ limit: 500, cursor });
    count += page.items.length;
    cursor = page.cursor;
  } while (cursor);
  const day = ctx.event?.type === "schedule" ? ctx.event.scheduledAt.slice(0, 10) : new Date().toISOString().slice(0, 10);
  await kv.collection("reports").set(day, { shipments: count });
  console.info(`report for ${day}: ${count} shipments`);
}
