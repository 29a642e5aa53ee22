// The shipped form of the runtime: `npm run build` bundles it into out/runtime, and `bin/picloud`
// runs that bundle. It must boot, run scripts in its bundled executor worker, log its start-up
// phases, and create a new PGlite data directory from the template without initdb's memory peak.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PiCloudApi } from "../client/api-client.js";
import { PICLOUD_BIN } from "../testing/processes.js";
// @ts-expect-error: a plain .mjs script without type declarations
import { runtimeBundleIsCurrent } from "../../scripts/bundle-state.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TOKEN = "pc_bundle_test_token_0123456789";

function peakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
}

describe("the runtime bundle", { timeout: 180_000 }, () => {
  let dataDir: string;
  let child: ChildProcess;
  let url: string;
  let stderr = "";

  beforeAll(async () => {
    // Built by `npm run build` and `pretest`; built here too when stale, so the file also runs alone
    // (never when current: a rebuild empties out/runtime under other test files' running servers).
    if (!runtimeBundleIsCurrent()) execFileSync(process.execPath, ["scripts/build-runtime.mjs"], { cwd: ROOT, stdio: "ignore" });
    execFileSync(process.execPath, ["scripts/build-pgdata-template.mjs"], { cwd: ROOT, stdio: "ignore" });
    dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-bundle-"));
    child = spawn(process.execPath, [PICLOUD_BIN, "serve", "--port", "0", "--data-dir", dataDir], {
      env: { ...process.env, PICLOUD_ADMIN_TOKEN: TOKEN, PICLOUD_LOG_LEVEL: "info", PICLOUD_FROM_SOURCE: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stderr?.on("data", (chunk) => (stderr += chunk));
    // The start-up log line comes after the URL: wait for both.
    url = await new Promise<string>((resolve, reject) => {
      let stdout = "";
      child.stdout?.on("data", (chunk) => (stdout += chunk));
      const check = () => {
        const found = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
        if (found && stderr.includes('"phases"')) resolve(found);
      };
      child.stdout?.on("data", check);
      child.stderr?.on("data", check);
      child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
  }, 150_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("bin/picloud runs the bundle, which serves scripts from its bundled worker", async () => {
    const started = JSON.parse(stderr.split("\n").find((line) => line.includes('"phases"')) as string);
    expect(started.code).toBe(path.join(ROOT, "out", "runtime"));
    for (const phase of ["modules", "database", "workers", "http", "listening"]) expect(started.phases[phase]).toBeGreaterThan(0);
    const api = new PiCloudApi({ url, token: TOKEN });
    await api.POST("/api/v1/apps", { body: { id: "b" } });
    await api.PUT("/api/v1/apps/{app}/scripts/{name}", {
      params: { path: { app: "b", name: "hi" } },
      body: { source: "export default async function (ctx) { return { app: ctx.app, n: 1 + 1 } }" },
    });
    const response = await fetch(`${url}/b/hi`);
    expect(await response.json()).toEqual({ app: "b", n: 2 });
    // TypeScript is stripped by sucrase, loaded on the first TypeScript deploy: a chunk of the bundle.
    await api.PUT("/api/v1/apps/{app}/scripts/{name}", {
      params: { path: { app: "b", name: "typed" } },
      body: { language: "typescript", source: "const n: number = 2;\nexport default async (): Promise<{ n: number }> => ({ n })" },
    });
    expect(await (await fetch(`${url}/b/typed`)).json()).toEqual({ n: 2 });
  });

  it("a script's fetch reaches an allowed loopback server: undici, loaded on the first fetch, is a chunk of the bundle", async () => {
    const server = createServer((request, response) => response.end(`hello from ${request.url}`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const api = new PiCloudApi({ url, token: TOKEN });
      await api.POST("/api/v1/apps", { body: { id: "out" } });
      await api.POST("/api/v1/apps/{app}/egress", { params: { path: { app: "out" } }, body: { patterns: [`127.0.0.1:${port}`] } });
      await api.PUT("/api/v1/apps/{app}/scripts/{name}", {
        params: { path: { app: "out", name: "call" } },
        body: {
          source: `export default async function () { const r = await fetch("http://127.0.0.1:${port}/x"); return { status: r.status, text: await r.text() } }`,
        },
      });
      const response = await fetch(`${url}/out/call`);
      expect(await response.json()).toEqual({ status: 200, text: "hello from /x" });
    } finally {
      server.close();
    }
  });

  it("a fresh data directory comes from the template: no initdb memory peak", () => {
    // initdb in-process peaks at 750–950 MiB; reopening a data directory needs ~250–400 MiB.
    expect(peakRssMiB(child.pid as number)).toBeLessThan(650);
  });
});
