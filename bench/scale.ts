// Many scripts: `apps` apps with `scriptsPerApp` scripts each, every one called once (a cold call:
// no warm sandbox, the app's engine module created on first use). Reports the latency of those
// calls and the server's memory afterwards.
import { rssMiB } from "./process.js";

type Api = (method: string, route: string, body?: unknown) => Promise<unknown>;

const CONCURRENCY = 8;

export async function scaleCase(
  api: Api,
  base: string,
  pid: number,
  options: { apps: number; scriptsPerApp: number },
): Promise<{ scripts: number; p50Ms: number; p99Ms: number; rssMiB: number }> {
  const targets: string[] = [];
  for (let a = 0; a < options.apps; a++) {
    const app = `scale-${a}`;
    await api("POST", "/apps", { id: app });
    for (let s = 0; s < options.scriptsPerApp; s++) {
      await api("PUT", `/apps/${app}/scripts/s${s}`, {
        source: `export default async function (ctx) { return { app: ctx.app, script: ${JSON.stringify(`s${s}`)}, n: ${a * 1000 + s} } }`,
      });
      targets.push(`${base}/${app}/s${s}`);
    }
  }
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < targets.length) {
        const url = targets[next++] as string;
        const started = performance.now();
        const response = await fetch(url);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0) * 10) / 10;
  return { scripts: targets.length, p50Ms: at(0.5), p99Ms: at(0.99), rssMiB: rssMiB(pid) };
}
