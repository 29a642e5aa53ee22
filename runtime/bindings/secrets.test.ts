// Per-app secrets: scripts read them as ctx.env / env, changes reach warm instances without a
// redeploy (and other nodes through NOTIFY), and a value never appears in logs, records, errors or the API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../testing/databases.js";
import { startTestRuntime, type TestRuntime } from "../testing/runtime.js";

const SECRET = 's3cr3t-"quoted"-value-42';

describe("secrets", () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime();
    await t.api("POST", "/apps", { id: "vault" });
    await t.api("POST", "/apps", { id: "thief" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("scripts read ctx.env and the Workers env; a missing secret is undefined; another app cannot see it", async () => {
    expect((await t.api("PUT", "/apps/vault/secrets/API_TOKEN", { value: "tok-1" })).json()).toMatchObject({ name: "API_TOKEN" });
    await t.deploy("vault", "plain", "export default async (ctx) => ({ token: ctx.env.API_TOKEN, missing: ctx.env.NOPE === undefined })");
    await t.deploy("vault", "module", "export default { fetch: (request, env) => new Response(env.API_TOKEN) }");
    expect((await t.runtime.app.inject({ url: "/vault/plain" })).json()).toEqual({ token: "tok-1", missing: true });
    expect((await t.runtime.app.inject({ url: "/vault/module" })).body).toBe("tok-1");
    await t.deploy("thief", "steal", "export default async (ctx) => ({ env: ctx.env, kv: await kv.collection('x').get('API_TOKEN') })");
    expect((await t.runtime.app.inject({ url: "/thief/steal" })).json()).toEqual({ env: {}, kv: null });
  });

  it("a change reaches a warm instance without a redeploy; delete removes it", async () => {
    await t.api("PUT", "/apps/vault/secrets/API_TOKEN", { value: "tok-2" });
    expect((await t.runtime.app.inject({ url: "/vault/plain" })).json().token).toBe("tok-2");
    expect((await t.api("DELETE", "/apps/vault/secrets/API_TOKEN")).statusCode).toBe(204);
    expect((await t.runtime.app.inject({ url: "/vault/plain" })).json().token).toBeUndefined();
    expect((await t.api("DELETE", "/apps/vault/secrets/API_TOKEN")).json().error.code).toBe("SECRET_NOT_FOUND");
  });

  it("bad names and values get coded errors", async () => {
    expect((await t.api("PUT", "/apps/vault/secrets/1BAD", { value: "x" })).json().error.code).toBe("SECRET_INVALID_NAME");
    expect((await t.api("PUT", "/apps/vault/secrets/EMPTY", { value: "" })).json().error.code).toBe("SECRET_INVALID_VALUE");
    expect((await t.api("PUT", "/apps/nope/secrets/A", { value: "x" })).json().error.code).toBe("APP_NOT_FOUND");
  });

  it("a secret a script logs and throws appears nowhere: response, records, logs, API, database", async () => {
    await t.api("PUT", "/apps/vault/secrets/LEAKY", { value: SECRET });
    await t.deploy(
      "vault",
      "leak",
      "export default async (ctx) => { console.log('token', ctx.env.LEAKY); console.log({ t: ctx.env.LEAKY }); throw new Error('bad ' + ctx.env.LEAKY); }",
    );
    const response = await t.runtime.app.inject({ url: "/vault/leak" });
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain("s3cr3t");
    expect(response.json().error.message).toContain("[secret:LEAKY]");
    await t.runtime.services.recorder.flush();
    const id = response.headers["x-picloud-invocation"] as string;
    const detail = await t.api("GET", `/invocations/${id}`);
    expect(detail.json().logs[0].message).toBe("token [secret:LEAKY]");
    const everywhere = [
      detail.body,
      (await t.api("GET", "/invocations?app=vault")).body,
      (await t.api("GET", "/apps/vault/secrets")).body,
      (await t.api("GET", "/apps/vault")).body,
      JSON.stringify(await t.runtime.db.query("select * from app_secrets")),
      JSON.stringify(await t.runtime.db.query("select * from invocations")),
    ];
    for (const text of everywhere) {
      expect(text).not.toContain("s3cr3t");
      expect(text).not.toContain(JSON.stringify(SECRET).slice(1, -1));
    }
    expect((await t.api("GET", "/apps/vault/secrets")).json().secrets.map((s: { name: string }) => s.name)).toEqual(["LEAKY"]);
  });
});

describe("secrets across a cluster", () => {
  let db: { url: string; drop: () => Promise<void> };
  let a: TestRuntime;
  let b: TestRuntime;
  beforeAll(async () => {
    db = await createPostgresDatabase();
    // Cache off on the first: it takes the database's KV lock shared, so the second can join.
    a = await startTestRuntime({ databaseUrl: db.url, flags: { kvCacheMiB: 0 } });
    b = await startTestRuntime({ databaseUrl: db.url });
    await a.api("POST", "/apps", { id: "shared" });
    await a.deploy("shared", "read", "export default async (ctx) => ({ v: ctx.env.V ?? null })");
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it("a secret set on one node reaches the other node's warm instances through the change notifications", async () => {
    expect((await b.runtime.app.inject({ url: "/shared/read" })).json()).toEqual({ v: null });
    await a.api("PUT", "/apps/shared/secrets/V", { value: "one" });
    await expect
      .poll(async () => (await b.runtime.app.inject({ url: "/shared/read" })).json().v, { timeout: 10_000, interval: 50 })
      .toBe("one");
  });
});
