// A manager and a node started alone (no front door): the node says where the admin API is instead
// of "no such script", and a deploy made against the manager prints an address that serves the script.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, startManager, startNode, stopProc } from "../testing/cluster.js";
import { createPostgresDatabase } from "../testing/databases.js";
import { runCli } from "../testing/processes.js";

const TOKEN = "pc_manager_node_test_token_000";
const ENV = { PICLOUD_ADMIN_TOKEN: TOKEN, PICLOUD_HEARTBEAT_MS: "500" };

describe("manager and node started alone", () => {
  let drop: () => Promise<void>;
  let databaseUrl: string;
  let manager: Proc;
  let node: Proc | undefined;
  let workDir: string;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    const db = await createPostgresDatabase();
    drop = db.drop;
    databaseUrl = db.url;
    manager = await startManager(databaseUrl, ENV);
    workDir = mkdtempSync(path.join(os.tmpdir(), "picloud-manager-node-"));
    writeFileSync(path.join(workDir, "hello.js"), "export default async function () { return { hi: 'there' } }");
    cliEnv = { PICLOUD_URL: manager.url, PICLOUD_TOKEN: TOKEN };
    expect((await runCli(["apps", "create", "demo"], cliEnv)).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([node, manager].filter((p): p is Proc => p !== undefined).map((p) => stopProc(p, "SIGKILL")));
    await drop?.();
    rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  it("a deploy against a manager with no node up says the nodes serve it", async () => {
    const deployed = await runCli(["deploy", path.join(workDir, "hello.js"), "--app", "demo"], cliEnv);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout.trim()).toBe(`${manager.url}/demo/hello`);
    expect(deployed.stderr).toMatch(/No node is up: the script is served by the nodes/);
  });

  it("a node answers the admin API's paths with ADMIN_API_ON_MANAGER, and still serves scripts", async () => {
    node = await startNode(databaseUrl, "solo", ENV);
    for (const [method, route] of [
      ["GET", "/api/v1/apps"],
      ["POST", "/api/v1/apps"],
      ["GET", "/api"],
      ["GET", "/"],
    ] as const) {
      const response = await fetch(`${node.url}${route}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status, route).toBe(404);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code, route).toBe("ADMIN_API_ON_MANAGER");
      expect(body.error.message).toMatch(/admin API .* on the manager/);
    }
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${node.url}/demo/hello`)).json()).toEqual({ hi: "there" });
  }, 120_000);

  it("a deploy against the manager prints a node's address once one is up; through a proxy, the proxy's", async () => {
    const solo = node as Proc;
    // The node is listed once its first heartbeat is in.
    for (let i = 0; i < 100; i++) {
      const listed = await runCli(["nodes", "list", "--json"], cliEnv);
      if (listed.stdout.includes('"solo"')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const deployed = await runCli(["deploy", path.join(workDir, "hello.js"), "--app", "demo", "--json"], cliEnv);
    expect(deployed.code).toBe(0);
    const body = JSON.parse(deployed.stdout) as { url: string; servedBy: string; version: number };
    expect(body).toMatchObject({ url: `${solo.url}/demo/hello`, servedBy: "node", version: 2 });
    expect(await (await fetch(body.url)).json()).toEqual({ hi: "there" });
    const human = await runCli(["deploy", path.join(workDir, "hello.js"), "--app", "demo"], cliEnv);
    expect(human.stdout.trim()).toBe(`${solo.url}/demo/hello`);
    expect(human.stderr).toMatch(/Served by the cluster's nodes/);
    // Through a front door (it adds X-Forwarded-For), the address the caller used routes scripts to the nodes.
    // (node:http, because fetch does not let a caller set Host.)
    const proxied = await new Promise<string>((resolve, reject) => {
      const headers = {
        authorization: `Bearer ${TOKEN}`,
        "x-forwarded-for": "10.0.0.9",
        "x-forwarded-proto": "https",
        host: "picloud.home.example",
      };
      http
        .get(`${manager.url}/api/v1/apps/demo/scripts/hello`, { headers }, (response) => {
          let text = "";
          response.on("data", (chunk) => {
            text += chunk;
          });
          response.on("end", () => resolve(text));
        })
        .on("error", reject);
    });
    expect((JSON.parse(proxied) as { url: string }).url).toBe("https://picloud.home.example/demo/hello");
  }, 120_000);

  it("a node registers the URL --public-url names (nothing connects to it here), while it listens on loopback", async () => {
    const advertised = await startNode(databaseUrl, "behind-nat", { ...ENV, PICLOUD_PUBLIC_URL: "https://scripts.example.test:8443/" });
    try {
      expect(advertised.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      let listed: { name: string; url: string }[] = [];
      for (let i = 0; i < 100 && !listed.some((n) => n.name === "behind-nat"); i++) {
        listed = JSON.parse((await runCli(["nodes", "list", "--json"], cliEnv)).stdout);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(listed.find((n) => n.name === "behind-nat")?.url).toBe("https://scripts.example.test:8443");
    } finally {
      await stopProc(advertised, "SIGKILL");
    }
    const refused = await runCli(["node", "--database-url", databaseUrl, "--port", "0", "--public-url", "scripts.example.test"], cliEnv);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/publicUrl/);
  }, 120_000);
});
