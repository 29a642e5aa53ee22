// The command line as a contract: real `bin/picloud` processes on a fresh data directory.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../testing/databases.js";
import { runCli, type ServeProcess, startServe } from "../testing/processes.js";

let dataDir: string;
let server: ServeProcess;
let env: Record<string, string>;
let workDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "picloud-cli-"));
  workDir = mkdtempSync(path.join(os.tmpdir(), "picloud-cli-files-"));
  server = await startServe(["--data-dir", dataDir], { PICLOUD_ADMIN_TOKEN: "" });
  env = { PICLOUD_URL: server.url, PICLOUD_TOKEN: server.token ?? "" };
}, 60_000);

afterAll(async () => {
  server?.child.kill("SIGKILL");
  await server?.exited.catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

describe("picloud serve", () => {
  it("prints the base URL, the data location and, on first start, the admin token", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.stdout()).toContain(`Data: ${path.join(dataDir, "pgdata")}`);
    expect(server.token).toMatch(/^pc_[A-Za-z0-9_-]{43}$/);
  });

  it("a second serve on the same data directory refuses to start with a clear message", async () => {
    const second = await runCli(["serve", "--port", "0", "--data-dir", dataDir]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/in use by another PiCloud process \(pid \d+\)/);
    expect(second.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("start-up (issue 11, items 1 and 23)", () => {
  it("a busy port gives PORT_IN_USE with a --port hint and uses up no token: the next start prints it", async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as net.AddressInfo).port;
    const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-busy-"));
    try {
      const refused = await runCli(["serve", "--port", String(port), "--data-dir", dir], { PICLOUD_ADMIN_TOKEN: "" });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/PORT_IN_USE/);
      expect(refused.stderr).toMatch(/--port/);
      expect(refused.stdout).not.toMatch(/Admin token/);
      // The next start, on a free port, is still the first start: it prints the token.
      const next = await startServe(["--data-dir", dir], { PICLOUD_ADMIN_TOKEN: "", PICLOUD_LOG_LEVEL: "info" });
      try {
        expect(next.token).toMatch(/^pc_/);
        // The banner is the only thing on stdout, and the logs do not repeat the address.
        expect(next.stdout()).not.toMatch(/"level"/);
        expect(next.stdout().split("\n")[0]).toMatch(/^PiCloud \S+ listening on http/);
      } finally {
        next.child.kill("SIGTERM");
        await next.exited;
      }
    } finally {
      busy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe("secrets and egress commands", () => {
  it("secrets set reads stdin, list shows names only, scripts read env; egress allow/list/remove", async () => {
    expect((await runCli(["apps", "create", "sec"], env)).code).toBe(0);
    const set = await runCli(["secrets", "set", "API_KEY", "--app", "sec"], env, "hunter2-secret\n");
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain("Set API_KEY");
    const listed = await runCli(["secrets", "list", "--app", "sec", "--json"], env);
    expect(JSON.parse(listed.stdout).secrets).toEqual([{ name: "API_KEY", updatedAt: expect.any(String) }]);
    expect(listed.stdout).not.toContain("hunter2");
    let file = path.join(workDir, "env.js");
    writeFileSync(file, "export default { fetch: (request, env) => new Response(env.API_KEY.length + ':' + env.API_KEY.slice(0, 4)) }");
    expect((await runCli(["deploy", file, "--app", "sec"], env)).code).toBe(0);
    expect(await (await fetch(`${server.url}/sec/env`)).text()).toBe("14:hunt");
    expect(statSync(path.join(dataDir, "secrets.key")).mode & 0o777).toBe(0o600);
    expect((await runCli(["secrets", "delete", "API_KEY", "--app", "sec"], env)).stdout).toContain("Deleted API_KEY");
    const missing = await runCli(["secrets", "delete", "API_KEY", "--app", "sec"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("SECRET_NOT_FOUND");

    const allowed = await runCli(["egress", "allow", "192.168.1.0/24", "ha.lan:8123", "*.home.arpa", "--app", "sec"], env);
    expect(allowed.code, allowed.stderr).toBe(0);
    const patterns = JSON.parse((await runCli(["egress", "list", "--app", "sec", "--json"], env)).stdout).patterns.map(
      (p: { pattern: string }) => p.pattern,
    );
    expect(patterns).toEqual(["*.home.arpa", "192.168.1.0/24", "ha.lan:8123"]);
    expect((await runCli(["egress", "remove", "192.168.1.0/24", "--app", "sec"], env)).code).toBe(0);
    expect((await runCli(["egress", "list", "--app", "sec"], env)).stdout).not.toContain("192.168");
    const bad = await runCli(["egress", "allow", "http://x", "--app", "sec"], env);
    expect(bad.stderr).toContain("EGRESS_INVALID_PATTERN");

    // egress mode: show, set allowlist (deny all but the patterns), back to public; a bad mode is refused.
    expect((await runCli(["egress", "mode", "--app", "sec"], env)).stdout).toContain("sec egress mode is public");
    const fenced = await runCli(["egress", "mode", "allowlist", "--app", "sec", "--json"], env);
    expect(fenced.code, fenced.stderr).toBe(0);
    expect(JSON.parse(fenced.stdout)).toEqual({ mode: "allowlist" });
    expect(JSON.parse((await runCli(["egress", "list", "--app", "sec", "--json"], env)).stdout).mode).toBe("allowlist");
    file = path.join(workDir, "out.js");
    writeFileSync(
      file,
      "export default async () => { try { await fetch('https://public.example/'); return 'reached'; } catch (e) { return e.code; } }",
    );
    expect((await runCli(["deploy", file, "--app", "sec"], env)).code).toBe(0);
    expect(await (await fetch(`${server.url}/sec/out`)).text()).toBe("FETCH_DENIED"); // refused before DNS
    expect((await runCli(["egress", "mode", "public", "--app", "sec"], env)).stdout).toContain("Set: sec egress mode is public");
    const unknown = await runCli(["egress", "mode", "deny", "--app", "sec"], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/allowlist/);
  }, 120_000);
});

describe("secrets on a Postgres serve without a key", () => {
  it("the start says secrets are off and how to turn them on; setting one fails SECRETS_KEY_MISSING in one line", async () => {
    expect(server.stdout()).not.toContain("Secrets: off"); // the embedded database keeps its key in the data directory
    const db = await createPostgresDatabase();
    const keyless = await startServe(["--database-url", db.url], {
      PICLOUD_ADMIN_TOKEN: "pc_keyless_test_token_0123456789",
      PICLOUD_SECRETS_KEY: "",
    });
    try {
      expect(keyless.stdout()).toMatch(/^Secrets: off until a key is set: PICLOUD_SECRETS_KEY or PICLOUD_SECRETS_KEY_FILE/m);
      const auth = { PICLOUD_URL: keyless.url, PICLOUD_TOKEN: "pc_keyless_test_token_0123456789" };
      expect((await runCli(["apps", "create", "vault"], auth)).code).toBe(0);
      const set = await runCli(["secrets", "set", "API_KEY", "--app", "vault"], auth, "value\n");
      expect(set.code).toBe(1);
      expect(set.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(set.stderr).toMatch(/PICLOUD_SECRETS_KEY.*\(SECRETS_KEY_MISSING\)/);
    } finally {
      keyless.child.kill("SIGTERM");
      await keyless.exited;
      await db.drop();
    }
  });
});

describe("settings commands", () => {
  it("settings show says where each value comes from; set changes only what it names; --unset and --clear give back to the app", async () => {
    expect((await runCli(["apps", "create", "tuned", "--strict"], env)).code).toBe(0);
    const file = path.join(workDir, "slow.js");
    writeFileSync(file, "export default () => 'ok'");
    expect((await runCli(["deploy", file, "--app", "tuned"], env)).code).toBe(0);
    const shown = await runCli(["settings", "show", "--app", "tuned", "--script", "slow"], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^SETTING\s+VALUE\s+FROM$/m);
    expect(shown.stdout).toMatch(/^strict\s+true\s+app$/m);
    expect(shown.stdout).toMatch(/^cpuMs\s+1000\s+server$/m);
    const set = await runCli(["settings", "set", "--app", "tuned", "--script", "slow", "--no-strict", "--limit", "cpuMs=5000"], env);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^strict\s+false\s+script$/m);
    expect(set.stdout).toMatch(/^cpuMs\s+5000\s+script$/m);
    const more = await runCli(["--json", "settings", "set", "--app", "tuned", "--script", "slow", "--limit", "wallMs=20000"], env);
    expect(JSON.parse(more.stdout).settings).toEqual({ strict: false, limits: { cpuMs: 5000, wallMs: 20000 } });
    const unset = await runCli(
      ["--json", "settings", "set", "--app", "tuned", "--script", "slow", "--unset", "strict", "--unset", "cpuMs"],
      env,
    );
    const view = JSON.parse(unset.stdout);
    expect(view.settings).toEqual({ limits: { wallMs: 20000 } });
    expect(view.effective.strict).toEqual({ value: true, source: "app" });
    const cleared = await runCli(["--json", "settings", "set", "--app", "tuned", "--script", "slow", "--clear"], env);
    expect(JSON.parse(cleared.stdout).settings).toEqual({});
    const appWide = await runCli(["settings", "set", "--app", "tuned", "--script", "slow", "--limit", "memoryMiB=128"], env);
    expect(appWide.code).toBe(1);
    expect(appWide.stderr).toContain("SCRIPT_SETTINGS_INVALID");
    const malformed = await runCli(["settings", "set", "--app", "tuned", "--script", "slow", "--limit", "cpuMs"], env);
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain("NAME=WHOLE_NUMBER");
  });

  it("without --script, settings show and set work on the app: its limits, strict mode and record sampling, over the server's", async () => {
    expect((await runCli(["apps", "create", "appwide"], env)).code).toBe(0);
    const shown = await runCli(["settings", "show", "--app", "appwide"], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^strict\s+false\s+server$/m);
    expect(shown.stdout).toMatch(/^memoryMiB\s+\d+\s+server$/m);
    expect(shown.stdout).toMatch(/^recordSampleRate\s+0\.01\s+server$/m);
    expect(shown.stdout).toMatch(/^appKey\s+not set\s+app$/m);

    const set = await runCli(
      ["--json", "settings", "set", "--app", "appwide", "--strict", "--limit", "memoryMiB=128", "--record-sample-rate", "0.5"],
      env,
    );
    expect(set.code, set.stderr).toBe(0);
    const view = JSON.parse(set.stdout);
    expect(view.settings).toEqual({ strict: true, limits: { memoryMiB: 128 }, recordSampleRate: 0.5 });
    expect(view.effective.limits.memoryMiB).toEqual({ value: 128, source: "app" });
    expect(view.effective.recordSampleRate).toEqual({ value: 0.5, source: "app" });
    // A script of the app sees the app's values as coming from the app.
    const file = path.join(workDir, "inapp.js");
    writeFileSync(file, "export default () => 'ok'");
    expect((await runCli(["deploy", file, "--app", "appwide"], env)).code).toBe(0);
    const script = JSON.parse((await runCli(["--json", "settings", "show", "--app", "appwide", "--script", "inapp"], env)).stdout);
    expect(script.effective.strict).toEqual({ value: true, source: "app" });

    const unset = JSON.parse(
      (await runCli(["--json", "settings", "set", "--app", "appwide", "--unset", "strict", "--unset", "recordSampleRate"], env)).stdout,
    );
    expect(unset.settings).toEqual({ limits: { memoryMiB: 128 } });
    expect(unset.effective.strict).toEqual({ value: false, source: "server" });
    const cleared = JSON.parse((await runCli(["--json", "settings", "set", "--app", "appwide", "--clear"], env)).stdout);
    expect(cleared.settings).toEqual({});

    const scriptOnly = await runCli(["settings", "set", "--app", "appwide", "--script", "inapp", "--record-sample-rate", "1"], env);
    expect(scriptOnly.code).toBe(1);
    expect(scriptOnly.stderr).toContain("app setting");
    const badRate = await runCli(["settings", "set", "--app", "appwide", "--record-sample-rate", "2"], env);
    expect(badRate.code).not.toBe(0);
    expect(badRate.stderr).toContain("between 0 and 1");
    const missing = await runCli(["settings", "show", "--app", "nosuchapp"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("APP_NOT_FOUND");
  });
});

describe("client commands", () => {
  it("apps create, deploy (URL and --json), invoke, logs, kv, versions, rollback", async () => {
    expect((await runCli(["apps", "create", "demo"], env)).stdout).toContain("Created app demo");
    const file = path.join(workDir, "greet.js");
    writeFileSync(file, "export default async function (ctx) { console.log('hi'); return { v: 1, q: ctx.request?.query ?? null } }");
    const deployed = await runCli(["deploy", file, "--app", "demo"], env);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout.trim()).toBe(`${server.url}/demo/greet`);
    const response = await fetch(`${server.url}/demo/greet?x=1`);
    expect(await response.json()).toEqual({ v: 1, q: { x: "1" } });

    writeFileSync(file, "export default async function () { return { v: 2 } }");
    const json = await runCli(["--json", "deploy", file, "--app", "demo", "--name", "greet"], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ url: `${server.url}/demo/greet`, version: 2 });

    const invoked = await runCli(["invoke", "greet", "--app", "demo", "--json"], env);
    expect(JSON.parse(invoked.stdout)).toMatchObject({ ok: true, status: 200, body: '{"v":2}' });

    const versions = JSON.parse((await runCli(["versions", "greet", "--app", "demo", "--json"], env)).stdout);
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect((await runCli(["rollback", "greet", "1", "--app", "demo"], env)).stdout).toContain("as version 3");
    expect(await (await fetch(`${server.url}/demo/greet`)).json()).toMatchObject({ v: 1 });

    // Deleted, then deployed anew under the same name: its versions start again at 1, with the new code.
    expect((await runCli(["delete", "greet", "--app", "demo"], env)).stdout).toContain("Deleted script greet of app demo");
    expect((await fetch(`${server.url}/demo/greet`)).status).toBe(404);
    expect((await runCli(["delete", "greet", "--app", "demo"], env)).code).not.toBe(0);
    writeFileSync(file, "export default async function () { return { v: 'anew' } }");
    expect(JSON.parse((await runCli(["--json", "deploy", file, "--app", "demo"], env)).stdout)).toMatchObject({ version: 1 });
    expect(await (await fetch(`${server.url}/demo/greet`)).json()).toEqual({ v: "anew" });

    const logs = JSON.parse((await runCli(["logs", "--app", "demo", "--json"], env)).stdout);
    expect(logs[0]).toMatchObject({ script: "greet", status: "ok" });
    expect(logs.some((l: { logs: { message: string }[] }) => l.logs.some((line) => line.message === "hi"))).toBe(true);

    expect((await runCli(["kv", "set", "notes", "a", '{"n":1}', "--app", "demo"], env)).code).toBe(0);
    expect(JSON.parse((await runCli(["kv", "get", "notes", "a", "--app", "demo"], env)).stdout)).toEqual({ n: 1 });
    expect(JSON.parse((await runCli(["kv", "list", "notes", "--app", "demo", "--json"], env)).stdout).items).toEqual([
      { key: "a", value: { n: 1 } },
    ]);
    expect((await runCli(["kv", "delete", "notes", "a", "--app", "demo"], env)).code).toBe(0);
    const missing = await runCli(["kv", "get", "notes", "a", "--app", "demo"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("KV_KEY_NOT_FOUND");
  }, 120_000);

  it("token create, list and revoke", async () => {
    const created = await runCli(["token", "create", "ci", "--json"], env);
    const { id, token } = JSON.parse(created.stdout);
    expect((await runCli(["apps", "list"], { ...env, PICLOUD_TOKEN: token })).code).toBe(0);
    expect((await runCli(["token", "list"], env)).stdout).toContain("ci");
    // Plural like every other noun of the CLI.
    expect((await runCli(["tokens", "list"], env)).stdout).toContain("ci");
    expect((await runCli(["token", "revoke", id], env)).code).toBe(0);
    const denied = await runCli(["apps", "list"], { ...env, PICLOUD_TOKEN: token });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("AUTH_INVALID");
  });

  it("fails with a non-zero exit and a one-line reason", async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["apps", "create", "demo"], env, /already exists.*APP_EXISTS/],
      [["apps", "list"], { ...env, PICLOUD_TOKEN: "" }, /AUTH_REQUIRED/],
      [["apps", "list"], { ...env, PICLOUD_URL: "http://127.0.0.1:9" }, /Cannot reach PiCloud/],
      [["deploy", path.join(workDir, "missing.js"), "--app", "demo"], env, /Cannot read/],
      [["kv", "set", "c", "k", "not json", "--app", "demo"], env, /must be JSON/],
    ];
    for (const [args, caseEnv, pattern] of cases) {
      const result = await runCli(args, caseEnv);
      expect(result.code, args.join(" ")).not.toBe(0);
      expect(result.stderr.trim().split("\n")[0]).toMatch(pattern);
    }
    const file = path.join(workDir, "broken.js");
    writeFileSync(file, "export default async function () {\n  return (;\n}");
    const broken = await runCli(["deploy", file, "--app", "demo"], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/line 2, column \d+.*SCRIPT_SYNTAX/);
  });

  it("client-side problems get client-side messages (issue 11, item 15)", async () => {
    const noToken = await runCli(["apps", "list"], { PICLOUD_URL: server.url, PICLOUD_TOKEN: "" });
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toMatch(/set --token or PICLOUD_TOKEN/);
    expect(noToken.stderr).not.toMatch(/Authorization/);
    const wrongToken = await runCli(["apps", "list"], { PICLOUD_URL: server.url, PICLOUD_TOKEN: "pc_not_the_right_token_at_all" });
    expect(wrongToken.stderr).toMatch(/rejected the admin token: check --token or PICLOUD_TOKEN/);
    const missing = await runCli(["deploy", path.join(workDir, "nope.js"), "--app", "demo"], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/nope\.js: there is no such file/);
    expect(missing.stderr).not.toMatch(/BAD_REQUEST/);
  });

  it("a command line it cannot run fails in one line with USAGE and the --help to read, like every other failure", async () => {
    for (const [args, reason, help] of [
      [["frobnicate"], "unknown command 'frobnicate'", "picloud --help"],
      [["apps", "create"], "missing required argument 'app'", "picloud apps create --help"],
      [["kv", "list"], "required option '--app <app>' not specified", "picloud kv list --help"],
      [["invoke", "hello", "--app", "a", "-d", "{bad"], "--data must be JSON", "picloud invoke --help"],
      [["apps", "--bogus"], "unknown option '--bogus'", "picloud apps --help"],
    ] as const) {
      const result = await runCli([...args]);
      expect(result.code, args.join(" ")).not.toBe(0);
      expect(result.stdout).toBe("");
      const lines = result.stderr.trimEnd().split("\n");
      expect(lines, args.join(" ")).toHaveLength(1);
      expect(lines[0]).toMatch(/^picloud: .* \(USAGE\)$/);
      expect(lines[0]).toContain(reason);
      expect(lines[0]).toContain(`see '${help}'`);
    }
    // A group without its subcommand shows the group's help (and fails), with no extra line of commander's.
    const group = await runCli(["apps"]);
    expect(group.code).not.toBe(0);
    expect(group.stderr).toContain("Usage: picloud apps");
    expect(group.stderr).not.toContain("outputHelp");
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("--help is available everywhere", async () => {
    for (const args of [
      [],
      ["serve"],
      ["apps"],
      ["apps", "create"],
      ["deploy"],
      ["kv"],
      ["kv", "list"],
      ["token"],
      ["logs"],
      ["invoke"],
      ["settings"],
      ["settings", "set"],
    ]) {
      const result = await runCli([...args, "--help"]);
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stdout).toContain("Usage: picloud");
    }
  });
});

describe("durability and shutdown", () => {
  it("an acknowledged write survives SIGKILL; a restart applies no migration and prints no new token", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-kill-"));
    try {
      const first = await startServe(["--data-dir", dir]);
      const auth = { PICLOUD_URL: first.url, PICLOUD_TOKEN: first.token ?? "" };
      await runCli(["apps", "create", "keep"], auth);
      expect((await runCli(["kv", "set", "c", "k", '"saved"', "--app", "keep"], auth)).code).toBe(0);
      first.child.kill("SIGKILL");
      await first.exited;
      const second = await startServe(["--data-dir", dir]);
      try {
        expect(second.token).toBeUndefined();
        const again = { PICLOUD_URL: second.url, PICLOUD_TOKEN: first.token ?? "" };
        expect(JSON.parse((await runCli(["kv", "get", "c", "k", "--app", "keep"], again)).stdout)).toBe("saved");
      } finally {
        second.child.kill("SIGKILL");
        await second.exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it("SIGTERM drains the in-flight request, then exits 0 and releases the data directory", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "picloud-term-"));
    try {
      const token = "pc_explicit_token_for_sigterm_test";
      const serving = await startServe(["--data-dir", dir], { PICLOUD_ADMIN_TOKEN: token });
      expect(serving.token).toBeUndefined();
      const auth = { PICLOUD_URL: serving.url, PICLOUD_TOKEN: token };
      await runCli(["apps", "create", "slow"], auth);
      const file = path.join(workDir, "slow.js");
      writeFileSync(
        file,
        "export default async function () { const end = Date.now() + 400; while (Date.now() < end) {} return 'finished' }",
      );
      await runCli(["deploy", file, "--app", "slow"], auth);
      const inFlight = fetch(`${serving.url}/slow/slow`).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 100));
      serving.child.kill("SIGTERM");
      expect(await inFlight).toBe("finished");
      expect(await serving.exited).toBe(0);
      const restarted = await startServe(["--data-dir", dir], { PICLOUD_ADMIN_TOKEN: token });
      restarted.child.kill("SIGTERM");
      expect(await restarted.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
