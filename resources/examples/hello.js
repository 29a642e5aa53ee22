// A first script: greets the caller and counts visits in KV.
export default async function (ctx) {
  const counters = kv.collection("counters");
  const visits = ((await counters.get("hello")) ?? 0) + 1;
  await counters.set("hello", visits);
  const name = ctx.request?.query.name ?? "world";
  console.log(`greeting ${name}, visit ${visits}`);
  return { message: `Hello, ${name}!`, visits };
}
