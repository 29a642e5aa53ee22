// One arm of `npm run bench:events`' dispatch case, in a process of its own: a runtime from the checkout
// BENCH_ROOT (default this one, from its TypeScript sources like `npm run bench`'s dispatch case) drains a
// committed backlog; prints one JSON line with events/s and the CPU it cost.
//   argv: pglite | postgres, then the backlog size.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { dispatchThroughput } from "./events.js";
import { cpuUs, ROOT } from "./process.js";
import { createPostgresDatabase } from "../runtime/testing/databases.js";

const root = process.env.BENCH_ROOT ?? ROOT;
const from = (file: string) => pathToFileURL(path.join(root, file)).href;
const backend = process.argv[2] ?? "postgres";
const count = Number(process.argv[3] ?? 3000);
const { startRuntime } = (await import(from("runtime/main.ts"))) as typeof import("../runtime/main.js");
const { loadConfig } = (await import(from("runtime/shared/config.ts"))) as typeof import("../runtime/shared/config.js");
const { silentLogger } = (await import(from("runtime/shared/log.ts"))) as typeof import("../runtime/shared/log.js");

const TOKEN = "pc_benchmark_token_0123456789";
const fresh = backend === "postgres" ? await createPostgresDatabase("evbench") : undefined;
try {
  const config = loadConfig({ adminToken: TOKEN, ...(fresh && { databaseUrl: fresh.url }) }, process.env);
  const runtime = await startRuntime({ config, logger: silentLogger(), ...(!fresh && { pgliteLocation: "memory://" }) });
  const backends = async () =>
    fresh
      ? (await runtime.db.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database()")).map((r) => r.pid)
      : [];
  const backendCpu = async () => {
    let sum = 0;
    for (const pid of await backends()) {
      try {
        sum += cpuUs(pid);
      } catch {}
    }
    return sum;
  };
  const counted = new Map<string, number>();
  if (process.env.BENCH_COUNT_QUERIES) {
    const db = runtime.db as unknown as {
      query: (sql: unknown, params?: unknown) => Promise<unknown>;
      transaction: (fn: unknown) => Promise<unknown>;
    };
    const query = db.query.bind(db);
    db.query = (sql, params) => {
      const text = (typeof sql === "string" ? sql : (sql as { text: string }).text).replace(/\s+/g, " ").slice(0, 50);
      counted.set(text, (counted.get(text) ?? 0) + 1);
      return query(sql, params);
    };
    const transaction = db.transaction.bind(db);
    db.transaction = (fn) => {
      counted.set("transaction", (counted.get("transaction") ?? 0) + 1);
      return transaction(fn);
    };
  }
  const mainBefore = cpuUs(process.pid, process.pid);
  const processBefore = cpuUs(process.pid);
  const databaseBefore = await backendCpu();
  const windowStart = process.hrtime.bigint() / 1000n;
  const eventsPerSec = await dispatchThroughput(runtime, count, from("runtime/store/events.ts"));
  if (process.env.BENCH_WINDOW) process.stderr.write(`WINDOW ${windowStart} ${process.hrtime.bigint() / 1000n}\n`);
  const processUs = (cpuUs(process.pid) - processBefore) / count;
  const mainThreadUs = (cpuUs(process.pid, process.pid) - mainBefore) / count;
  const databaseUs = ((await backendCpu()) - databaseBefore) / count;
  await runtime.close();
  for (const [text, n] of counted) process.stderr.write(`${n}\t${text}\n`);
  process.stdout.write(
    `${JSON.stringify({ eventsPerSec, processUs: Math.round(processUs), mainThreadUs: Math.round(mainThreadUs), databaseUs: Math.round(databaseUs) })}\n`,
  );
} finally {
  await fresh?.drop();
}
