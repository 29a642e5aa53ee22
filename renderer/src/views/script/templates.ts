// What a new script starts as, per language.
export type Language = "javascript" | "typescript";

export const TEMPLATES: Record<Language, string> = {
  javascript: `/** @param {PiContext} ctx */
export default async function (ctx) {
  const visits = kv.collection("visits");
  const count = Number((await visits.get("count")) ?? 0) + 1;
  await visits.set("count", count);
  console.log("visit", count);
  return { hello: ctx.request?.query.name ?? "world", count };
}
`,
  typescript: `export default async function (ctx: PiContext): Promise<unknown> {
  const visits = kv.collection<number>("visits");
  const count = ((await visits.get("count")) ?? 0) + 1;
  await visits.set("count", count);
  console.log("visit", count);
  return { hello: ctx.request?.query.name ?? "world", count };
}
`,
};
