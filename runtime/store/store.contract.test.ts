// One storage contract, run on embedded PGlite and on a real Postgres server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, type TestDatabase, testDatabase } from "../testing/databases.js";
import { AppStore } from "./apps.js";
import type { Db } from "./db.js";
import { EgressStore } from "./egress.js";
import { InvocationStore, type InvocationRecord } from "./invocations.js";
import { MIGRATIONS } from "./migrations/index.js";
import { InvocationStatsStore } from "./invocation-stats.js";
import { KvStore } from "./kv.js";
import { migrate } from "./migrate.js";
import { ScriptStore } from "./scripts.js";
import { TokenStore } from "./tokens.js";

describe.each(BACKENDS)("storage on %s", (backend) => {
  let database: TestDatabase;
  let db: Db;
  let apps: AppStore;
  let scripts: ScriptStore;
  let kv: KvStore;

  beforeAll(async () => {
    database = await testDatabase(backend);
    db = await database.open();
    apps = new AppStore(db);
    scripts = new ScriptStore(db);
    kv = new KvStore(db);
    await apps.create("shop");
    await apps.create("other");
  });

  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  it("migrations apply once: a second run applies nothing", async () => {
    expect(await migrate(db)).toEqual([]);
    const rows = await db.query<{ version: number }>("select version from schema_migrations order by version");
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it("apps: create, list, reject duplicates", async () => {
    await expect(apps.create("shop")).rejects.toMatchObject({ code: "APP_EXISTS" });
    expect((await apps.list()).map((a) => a.id)).toEqual(["other", "shop"]);
    await expect(apps.require("nope")).rejects.toMatchObject({ code: "APP_NOT_FOUND" });
  });

  it("scripts: every deploy is a new immutable version; restore appends", async () => {
    const v1 = await scripts.deploy("shop", "cart", { language: "javascript", source: "v1", compiled: "v1" });
    const v2 = await scripts.deploy("shop", "cart", { language: "javascript", source: "v2", compiled: "v2" });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect((await scripts.current("shop", "cart"))?.source).toBe("v2");
    const v3 = await scripts.restore("shop", "cart", 1);
    expect(v3).toMatchObject({ version: 3, source: "v1", restoredFrom: 1 });
    expect((await scripts.current("shop", "cart"))?.version).toBe(3);
    expect((await scripts.versions("shop", "cart")).map((v) => v.version)).toEqual([3, 2, 1]);
    expect((await scripts.version("shop", "cart", 2)).source).toBe("v2");
    await expect(scripts.version("shop", "cart", 9)).rejects.toMatchObject({ code: "VERSION_NOT_FOUND" });
    await expect(scripts.deploy("ghost", "x", { language: "javascript", source: "", compiled: "" })).rejects.toMatchObject({
      code: "APP_NOT_FOUND",
    });
  });

  it("scripts: concurrent deploys of one script get distinct versions", async () => {
    const deployed = await Promise.all(
      Array.from({ length: 8 }, (_, i) => scripts.deploy("shop", "race", { language: "javascript", source: `s${i}`, compiled: `s${i}` })),
    );
    expect(deployed.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("kv: round-trip, missing key is null, has is boolean, delete says whether it was present", async () => {
    expect(await kv.set("shop", "widgets", "k", JSON.stringify({ n: 1 }))).toBe("insert");
    expect(await kv.set("shop", "widgets", "k", JSON.stringify({ n: 2 }))).toBe("update");
    expect(JSON.parse((await kv.get("shop", "widgets", "k")) as string)).toEqual({ n: 2 });
    expect(await kv.get("shop", "widgets", "missing")).toBeNull();
    expect(await kv.has("shop", "widgets", "k")).toBe(true);
    expect(await kv.has("shop", "widgets", "missing")).toBe(false);
    expect(await kv.delete("shop", "widgets", "k")).toBe(true);
    expect(await kv.delete("shop", "widgets", "k")).toBe(false);
    expect(await kv.get("shop", "widgets", "k")).toBeNull();
  });

  it("kv: values keep their JSON types", async () => {
    const values = [0, -1.5, "text", "", true, false, null, [1, "a", null], { nested: { deep: [1, 2] } }, "ünïcødé ✓ 𝄞"];
    for (const [i, value] of values.entries()) await kv.set("shop", "types", `k${i}`, JSON.stringify(value));
    for (const [i, value] of values.entries()) expect(JSON.parse((await kv.get("shop", "types", `k${i}`)) as string)).toEqual(value);
  });

  it("kv: invalid collections, keys and values are rejected with codes", async () => {
    for (const name of ["", ".hidden", "-x", "a/b", "a b", "x".repeat(129), 42, null]) {
      await expect(kv.get("shop", name as string, "k")).rejects.toMatchObject({ code: "KV_INVALID_COLLECTION" });
    }
    for (const key of ["", "a\u0000b", "k".repeat(513), 7, null, { a: 1 }]) {
      await expect(kv.set("shop", "c", key as string, "1")).rejects.toMatchObject({ code: "KV_INVALID_KEY" });
    }
    await expect(kv.set("shop", "c", "big", JSON.stringify("x".repeat(1024 * 1024)))).rejects.toMatchObject({ code: "KV_VALUE_TOO_LARGE" });
    await expect(kv.set("shop", "c", "nul", JSON.stringify("a\u0000b"))).rejects.toMatchObject({ code: "KV_INVALID_VALUE" });
    expect(await kv.get("shop", "c", "big")).toBeNull();
    expect(await kv.set("shop", "c", "k".repeat(512), "1")).toBe("insert");
  });

  it("kv: cursor pagination visits every key once, in key order, over several pages", async () => {
    const keys = Array.from({ length: 23 }, (_, i) => `item-${String(i).padStart(3, "0")}`);
    for (const key of [...keys].reverse()) await kv.set("shop", "paged", key, JSON.stringify(key));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await kv.list("shop", "paged", { limit: 5, cursor });
      seen.push(...page.items.map((i) => i.key));
      for (const item of page.items) expect(JSON.parse(item.valueJson)).toBe(item.key);
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(keys);
    expect(pages).toBe(5);
  });

  it("kv.list returns a stable cursor under concurrent inserts", async () => {
    for (const key of ["b", "d", "f", "h", "j", "l"]) await kv.set("shop", "stable", key, "1");
    const first = await kv.list("shop", "stable", { limit: 3 });
    expect(first.items.map((i) => i.key)).toEqual(["b", "d", "f"]);
    // Keys land before and after the cursor while the client is between pages.
    await Promise.all(["a", "c", "e", "g", "k", "m"].map((key) => kv.set("shop", "stable", key, "2")));
    const rest: string[] = [];
    let cursor = first.cursor;
    while (cursor) {
      const page = await kv.list("shop", "stable", { limit: 2, cursor });
      rest.push(...page.items.map((i) => i.key));
      cursor = page.cursor;
    }
    // Nothing already seen is repeated, nothing that existed is skipped; keys after the cursor appear.
    expect(rest).toEqual(["g", "h", "j", "k", "l", "m"]);
  });

  it("kv: prefix search, including non-ASCII prefixes and bytewise order", async () => {
    for (const key of ["user:1", "user:2", "user:10", "users", "usex", "ü:1", "ü:2", "üz", "Z", "a"]) await kv.set("shop", "pre", key, "0");
    const keysOf = async (prefix: string) => (await kv.list("shop", "pre", { prefix, limit: 100 })).items.map((i) => i.key);
    expect(await keysOf("user:")).toEqual(["user:1", "user:10", "user:2"]);
    expect(await keysOf("user")).toEqual(["user:1", "user:10", "user:2", "users"]);
    expect(await keysOf("ü:")).toEqual(["ü:1", "ü:2"]);
    expect(await keysOf("")).toEqual(["Z", "a", "user:1", "user:10", "user:2", "users", "usex", "ü:1", "ü:2", "üz"]);
    const page = await kv.list("shop", "pre", { prefix: "user", limit: 2 });
    const next = await kv.list("shop", "pre", { prefix: "user", limit: 2, cursor: page.cursor });
    expect(next.items.map((i) => i.key)).toEqual(["user:2", "users"]);
    expect(next.cursor).toBeNull();
    await expect(kv.list("shop", "pre", { cursor: "not-a-cursor" })).rejects.toMatchObject({ code: "KV_INVALID_CURSOR" });
    await expect(kv.list("shop", "pre", { limit: 0 })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("kv: apps never see each other's data", async () => {
    await kv.set("shop", "secrets", "key", JSON.stringify("shop-only"));
    expect(await kv.get("other", "secrets", "key")).toBeNull();
    expect(await kv.has("other", "secrets", "key")).toBe(false);
    expect((await kv.list("other", "secrets")).items).toEqual([]);
    expect(await kv.delete("other", "secrets", "key")).toBe(false);
    expect(await kv.get("shop", "secrets", "key")).toBe('"shop-only"');
    expect((await kv.collections("other")).map((c) => c.name)).not.toContain("secrets");
  });

  it("deleting an app removes its scripts, data and invocation records", async () => {
    await apps.create("doomed");
    await scripts.deploy("doomed", "s", { language: "javascript", source: "x", compiled: "x" });
    await kv.set("doomed", "c", "k", "1");
    const invocations = new InvocationStore(db);
    await invocations.insertMany([record("doomed-1", "doomed", Date.now())]);
    expect(await apps.delete("doomed")).toBe(true);
    expect(await scripts.current("doomed", "s")).toBeUndefined();
    expect(await db.query("select 1 from kv where app_id = 'doomed'")).toEqual([]);
    expect(await invocations.get("doomed-1")).toBeUndefined();
    expect(await apps.delete("doomed")).toBe(false);
  });

  it("egress mode: public until set, then what was set last; a re-created app starts public again", async () => {
    const egress = new EgressStore(db);
    await apps.create("fenced");
    expect(await egress.mode("fenced")).toBe("public");
    await egress.setMode("fenced", "allowlist");
    expect(await egress.mode("fenced")).toBe("allowlist");
    expect(await egress.mode("shop")).toBe("public");
    await egress.setMode("fenced", "public");
    await egress.setMode("fenced", "allowlist");
    expect(await egress.mode("fenced")).toBe("allowlist");
    await expect(db.query("insert into app_egress_mode (app_id, mode) values ('shop', 'open')")).rejects.toThrow();
    await apps.delete("fenced");
    await apps.create("fenced");
    expect(await egress.mode("fenced")).toBe("public");
  });

  it("invocations: batch insert, filter, page and prune by count and age", async () => {
    const invocations = new InvocationStore(db);
    const now = Date.parse("2026-01-10T00:00:00Z");
    const batch = Array.from({ length: 30 }, (_, i) =>
      record(`inv-${String(i).padStart(3, "0")}`, "shop", now - (30 - i) * 60_000, i % 3 === 0 ? "error" : "ok"),
    );
    await invocations.insertMany(batch);
    const newest = await invocations.list({ app: "shop", limit: 5 });
    expect(newest.map((r) => r.id)).toEqual(["inv-029", "inv-028", "inv-027", "inv-026", "inv-025"]);
    expect(newest[0]).toMatchObject({ app: "shop", script: "s", logs: [{ level: "log", message: "hi", at: 1 }], eventId: null });
    const page2 = await invocations.list({ app: "shop", limit: 5, before: "inv-025" });
    expect(page2[0]?.id).toBe("inv-024");
    const errors = await invocations.list({ app: "shop", status: "error", limit: 100 });
    expect(errors.every((r) => r.status === "error" && r.error?.code === "SCRIPT_ERROR")).toBe(true);
    expect(errors).toHaveLength(10);
    // 10 minutes of age limit keeps the last 9 (minute 21..29), then the count limit keeps 5.
    const deleted = await invocations.prune({ maxCount: 5, maxAgeMs: 9.5 * 60_000, now });
    expect(deleted).toBe(25);
    expect((await invocations.list({ limit: 100 })).map((r) => r.id)).toEqual(["inv-029", "inv-028", "inv-027", "inv-026", "inv-025"]);
  });

  it("invocation stats: rows for the same app, script and minute add up (counts, errors by code, histogram, CPU)", async () => {
    const stats = new InvocationStatsStore(db);
    const minute = Date.parse("2026-01-10T00:05:00Z");
    const row = (errors: Record<string, number>, hist: number[]) => ({
      app: "shop",
      script: "s",
      minute,
      count: hist.reduce((a, b) => a + b, 0),
      errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
      errors,
      durationHist: hist,
      durationSumMs: 10,
      cpuMs: 2,
    });
    await stats.addMany([row({ SCRIPT_ERROR: 1 }, [3, 1]), { ...row({}, [1]), script: "t" }]);
    await stats.addMany([row({ SCRIPT_ERROR: 2, SCRIPT_TIMEOUT: 1 }, [0, 2, 0, 4])]);
    const [s, t] = await stats.list({ app: "shop", from: minute, to: minute + 60_000 });
    expect(s).toMatchObject({
      script: "s",
      count: 10,
      errorCount: 4,
      errors: { SCRIPT_ERROR: 3, SCRIPT_TIMEOUT: 1 },
      durationSumMs: 20,
      cpuMs: 4,
    });
    expect(s?.durationHist.slice(0, 5)).toEqual([3, 3, 0, 4, 0]);
    expect(t).toMatchObject({ script: "t", count: 1, errors: {} });
    expect(await stats.list({ app: "shop", script: "t", from: minute + 60_000, to: minute + 120_000 })).toEqual([]);
    expect(await stats.prune({ maxAgeMs: 60_000, now: minute + 120_001 })).toBe(2);
  });

  it("tokens: stored hashed, verified, revoked", async () => {
    const tokens = new TokenStore(db);
    await tokens.create("keeper");
    const { token, info } = await tokens.create("ci");
    expect(token).toMatch(/^pc_/);
    const stored = await db.query<{ hash: string }>("select hash from admin_tokens where id = $1", [info.id]);
    expect(stored[0]?.hash).not.toContain(token);
    expect(await tokens.verify(token)).toBe(info.id);
    expect(await tokens.verify(`${token}x`)).toBeUndefined();
    expect(await tokens.revoke(info.id)).toBe("revoked");
    expect(await tokens.verify(token)).toBeUndefined();
    expect(await tokens.revoke(info.id)).toBe("missing");
  });

  it("tokens: the last one cannot be revoked, even by two revocations at once", async () => {
    const tokens = new TokenStore(db);
    await db.query("delete from admin_tokens");
    const a = (await tokens.create("a")).info.id;
    const b = (await tokens.create("b")).info.id;
    const outcomes = await Promise.all([tokens.revoke(a), tokens.revoke(b)]);
    expect(outcomes.sort()).toEqual(["last", "revoked"]);
    expect(await tokens.count()).toBe(1);
  });

  it("LISTEN/NOTIFY delivers payloads", async () => {
    const received: string[] = [];
    const done = new Promise<void>((resolve) => {
      void db
        .listen("picloud_test_channel", (payload) => {
          received.push(payload);
          resolve();
        })
        .then(() => db.notify("picloud_test_channel", "hello"));
    });
    await done;
    expect(received).toEqual(["hello"]);
  });
});

function record(id: string, app: string, startedAt: number, status: "ok" | "error" = "ok"): InvocationRecord {
  return {
    id,
    app,
    script: "s",
    version: 1,
    trigger: "http",
    status,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: 1.5,
    logs: [{ level: "log", message: "hi", at: 1 }],
    error: status === "error" ? { code: "SCRIPT_ERROR", message: "boom" } : null,
    eventId: null,
  };
}
