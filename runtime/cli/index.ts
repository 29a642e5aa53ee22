// The `picloud` command. Its names, flags and --json shapes are a contract other tools rely on.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { PiCloudError } from "../shared/errors.js";
import { PICLOUD_VERSION } from "../shared/version.js";
import { ApiClient, ApiError } from "./client.js";

interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

const program = new Command("picloud")
  .description("PiCloud: write a script, get an HTTP endpoint.")
  .version(PICLOUD_VERSION)
  .showHelpAfterError()
  .addOption(new Option("--url <url>", "runtime base URL").env("PICLOUD_URL").default("http://127.0.0.1:8787"))
  .addOption(new Option("--token <token>", "admin token").env("PICLOUD_TOKEN"))
  .option("--json", "machine-readable JSON output");

function client(): { api: ApiClient; json: boolean } {
  const options = program.opts<GlobalOptions>();
  return { api: new ApiClient({ url: options.url, token: options.token }), json: options.json === true };
}

function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(data, null, 2) : human()}\n`);
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("Not a whole number.");
  return n;
}

function parseJson(label: string) {
  return (value: string): unknown => {
    try {
      return JSON.parse(value);
    } catch {
      throw new InvalidArgumentError(`${label} must be JSON (quote strings: '"text"').`);
    }
  };
}

const table = (rows: string[][]): string => {
  if (rows.length === 0) return "";
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
};

const enc = encodeURIComponent;

// ---- serve ----
program
  .command("serve")
  .description("run the all-in-one runtime (admin API, ingress, executor) in the foreground")
  .option("--host <host>", "interface to listen on (env PICLOUD_HOST)")
  .option("--port <port>", "port to listen on (env PICLOUD_PORT)", parseInteger)
  .option("--data-dir <dir>", "data directory for the embedded database (env PICLOUD_DATA_DIR)")
  .option("--database-url <url>", "use an external PostgreSQL instead of the embedded one (env PICLOUD_DATABASE_URL)")
  .option("--workers <n>", "executor worker threads", parseInteger)
  .action(async (o: { host?: string; port?: number; dataDir?: string; databaseUrl?: string; workers?: number }) => {
    // Loaded on demand: client commands should not pay for the whole runtime's start-up.
    const { serve } = await import("./serve.js");
    await serve({ host: o.host, port: o.port, dataDir: o.dataDir, databaseUrl: o.databaseUrl, executorWorkers: o.workers });
  });

// ---- apps ----
const apps = program.command("apps").description("manage apps (tenants)");
apps
  .command("create <app>")
  .description("create an app")
  .option("--strict", "fresh sandbox for every invocation")
  .action(async (app: string, o: { strict?: boolean }) => {
    const { api, json } = client();
    const created = await api.request<{ id: string }>("POST", "/apps", { id: app, ...(o.strict && { settings: { strict: true } }) });
    print(json, created, () => `Created app ${created.id}`);
  });
apps
  .command("list")
  .description("list apps")
  .action(async () => {
    const { api, json } = client();
    const result = await api.request<{ apps: { id: string; createdAt: string }[] }>("GET", "/apps");
    print(json, result.apps, () =>
      result.apps.length ? table([["APP", "CREATED"], ...result.apps.map((a) => [a.id, a.createdAt])]) : "No apps.",
    );
  });
apps
  .command("delete <app>")
  .description("delete an app with its scripts, data and records")
  .action(async (app: string) => {
    const { api, json } = client();
    await api.request("DELETE", `/apps/${enc(app)}`);
    print(json, { deleted: app }, () => `Deleted app ${app}`);
  });

// ---- deploy ----
program
  .command("deploy <file>")
  .description("deploy a script file (.js or .ts) as a new version; prints its endpoint URL")
  .requiredOption("--app <app>", "app to deploy into")
  .option("--name <script>", "script name (default: the file name without extension)")
  .action(async (file: string, o: { app: string; name?: string }) => {
    const { api, json } = client();
    const source = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new PiCloudError("BAD_REQUEST", `Cannot read ${file}: ${error.code ?? error.message}`);
    });
    const ext = path.extname(file).toLowerCase();
    const name =
      o.name ??
      path
        .basename(file, ext)
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, "-");
    const language = ext === ".ts" || ext === ".mts" ? "typescript" : "javascript";
    const deployed = await api.request<{ url: string; version: number; name: string }>("PUT", `/apps/${enc(o.app)}/scripts/${enc(name)}`, {
      source,
      language,
    });
    print(json, deployed, () => deployed.url);
  });

// ---- invoke ----
program
  .command("invoke <script>")
  .description("test-run a script's current version and show its response and logs")
  .requiredOption("--app <app>", "app of the script")
  .option("-X, --method <method>", "HTTP method of the sample request", "GET")
  .option("--path <path>", "sub-path of the sample request", "/")
  .option("-d, --data <json>", "JSON body of the sample request", parseJson("--data"))
  .option("--event <json>", "run as a triggered invocation with this ctx.event", parseJson("--event"))
  .action(async (script: string, o: { app: string; method: string; path: string; data?: unknown; event?: unknown }) => {
    const { api, json } = client();
    const body = o.event
      ? { event: o.event }
      : {
          request: {
            method: o.method,
            path: o.path,
            ...(o.data !== undefined && { body: o.data, headers: { "content-type": "application/json" } }),
          },
        };
    const result = await api.request<{
      ok: boolean;
      status: number;
      body: string | null;
      logs: { level: string; message: string }[];
      durationMs: number;
      error: { code: string; message: string; line?: number } | null;
    }>("POST", `/apps/${enc(o.app)}/scripts/${enc(script)}/invoke`, body);
    print(json, result, () => {
      const lines = result.logs.map((l) => `[${l.level}] ${l.message}`);
      if (result.ok) lines.push(`HTTP ${result.status} (${result.durationMs.toFixed(1)} ms)`, result.body ?? "");
      else lines.push(`${result.error?.code}: ${result.error?.message}${result.error?.line ? ` (line ${result.error.line})` : ""}`);
      return lines.join("\n");
    });
    if (!result.ok) process.exitCode = 1;
  });

// ---- logs ----
program
  .command("logs")
  .description("recent invocations with their logs and errors, newest first")
  .requiredOption("--app <app>", "app")
  .option("--script <script>", "only this script")
  .option("--status <status>", "ok or error")
  .option("--limit <n>", "how many", parseInteger, 20)
  .action(async (o: { app: string; script?: string; status?: string; limit: number }) => {
    const { api, json } = client();
    const query = new URLSearchParams({
      app: o.app,
      limit: String(o.limit),
      ...(o.script && { script: o.script }),
      ...(o.status && { status: o.status }),
    });
    const result = await api.request<{
      invocations: {
        id: string;
        script: string;
        version: number;
        trigger: string;
        status: string;
        startedAt: string;
        durationMs: number;
        logs: { level: string; message: string }[];
        error: { code: string; message: string } | null;
      }[];
    }>("GET", `/invocations?${query}`);
    print(
      json,
      result.invocations,
      () =>
        result.invocations
          .map((i) =>
            [
              `${i.startedAt} ${i.script}@${i.version} ${i.trigger} ${i.status} ${i.durationMs.toFixed(1)}ms ${i.id}`,
              ...i.logs.map((l) => `  [${l.level}] ${l.message}`),
              ...(i.error ? [`  ${i.error.code}: ${i.error.message}`] : []),
            ].join("\n"),
          )
          .join("\n") || "No invocations.",
    );
  });

// ---- versions / rollback ----
program
  .command("versions <script>")
  .description("list a script's versions, newest first")
  .requiredOption("--app <app>", "app of the script")
  .action(async (script: string, o: { app: string }) => {
    const { api, json } = client();
    const result = await api.request<{ versions: { version: number; language: string; restoredFrom: number | null; createdAt: string }[] }>(
      "GET",
      `/apps/${enc(o.app)}/scripts/${enc(script)}/versions`,
    );
    print(json, result.versions, () =>
      table([
        ["VERSION", "LANGUAGE", "CREATED", "NOTE"],
        ...result.versions.map((v) => [
          String(v.version),
          v.language,
          v.createdAt,
          v.restoredFrom ? `restored from ${v.restoredFrom}` : "",
        ]),
      ]),
    );
  });
program
  .command("rollback <script> <version>")
  .description("make an earlier version current again (recorded as a new version)")
  .requiredOption("--app <app>", "app of the script")
  .action(async (script: string, version: string, o: { app: string }) => {
    const { api, json } = client();
    const restored = await api.request<{ version: number; url: string }>(
      "POST",
      `/apps/${enc(o.app)}/scripts/${enc(script)}/versions/${parseInteger(version)}/restore`,
    );
    print(json, restored, () => `Restored version ${version} as version ${restored.version}: ${restored.url}`);
  });

// ---- kv ----
const kv = program.command("kv").description("read and write an app's KV data");
kv.command("get <collection> <key>")
  .requiredOption("--app <app>", "app")
  .description("print a value as JSON")
  .action(async (collection: string, key: string, o: { app: string }) => {
    const { api, json } = client();
    const entry = await api.request<{ key: string; value: unknown }>("GET", `/apps/${enc(o.app)}/kv/${enc(collection)}/${enc(key)}`);
    print(json, entry, () => JSON.stringify(entry.value, null, 2));
  });
kv.command("set <collection> <key> <value>")
  .requiredOption("--app <app>", "app")
  .description("store a JSON value (quote strings: '\"text\"')")
  .action(async (collection: string, key: string, value: string, o: { app: string }) => {
    const { api, json } = client();
    const parsed = parseJson("value")(value);
    const result = await api.request<{ op: string }>("PUT", `/apps/${enc(o.app)}/kv/${enc(collection)}/${enc(key)}`, { value: parsed });
    print(json, result, () => `${result.op === "insert" ? "Inserted" : "Updated"} ${collection}/${key}`);
  });
kv.command("list [collection]")
  .requiredOption("--app <app>", "app")
  .option("--prefix <prefix>", "only keys starting with this")
  .option("--cursor <cursor>", "continue after a previous page")
  .option("--limit <n>", "page size", parseInteger)
  .description("list collections, or the keys of one collection")
  .action(async (collection: string | undefined, o: { app: string; prefix?: string; cursor?: string; limit?: number }) => {
    const { api, json } = client();
    if (!collection) {
      const result = await api.request<{ collections: { name: string; count: number }[] }>("GET", `/apps/${enc(o.app)}/kv`);
      print(json, result, () => table([["COLLECTION", "KEYS"], ...result.collections.map((c) => [c.name, String(c.count)])]));
      return;
    }
    const query = new URLSearchParams({
      ...(o.prefix && { prefix: o.prefix }),
      ...(o.cursor && { cursor: o.cursor }),
      ...(o.limit && { limit: String(o.limit) }),
    });
    const page = await api.request<{ items: { key: string; value: unknown }[]; cursor: string | null }>(
      "GET",
      `/apps/${enc(o.app)}/kv/${enc(collection)}?${query}`,
    );
    print(json, page, () =>
      [...page.items.map((i) => `${i.key}\t${JSON.stringify(i.value)}`), ...(page.cursor ? [`(more: --cursor ${page.cursor})`] : [])].join(
        "\n",
      ),
    );
  });
kv.command("delete <collection> <key>")
  .requiredOption("--app <app>", "app")
  .description("delete a key")
  .action(async (collection: string, key: string, o: { app: string }) => {
    const { api, json } = client();
    await api.request("DELETE", `/apps/${enc(o.app)}/kv/${enc(collection)}/${enc(key)}`);
    print(json, { deleted: key }, () => `Deleted ${collection}/${key}`);
  });

// ---- token ----
const token = program.command("token").description("manage admin tokens");
token
  .command("create <name>")
  .description("create an admin token (shown once)")
  .action(async (name: string) => {
    const { api, json } = client();
    const created = await api.request<{ id: string; token: string }>("POST", "/tokens", { name });
    print(json, created, () => created.token);
  });
token
  .command("list")
  .description("list admin tokens (never their values)")
  .action(async () => {
    const { api, json } = client();
    const result = await api.request<{ tokens: { id: string; name: string; createdAt: string; lastUsedAt: string | null }[] }>(
      "GET",
      "/tokens",
    );
    print(json, result.tokens, () =>
      table([["ID", "NAME", "CREATED", "LAST USED"], ...result.tokens.map((t) => [t.id, t.name, t.createdAt, t.lastUsedAt ?? "never"])]),
    );
  });
token
  .command("revoke <id>")
  .description("revoke an admin token")
  .action(async (id: string) => {
    const { api, json } = client();
    await api.request("DELETE", `/tokens/${enc(id)}`);
    print(json, { revoked: id }, () => `Revoked token ${id}`);
  });

export async function runCli(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const message =
      error instanceof ApiError || error instanceof PiCloudError
        ? `${error.message} (${error.code})`
        : String((error as Error)?.message ?? error);
    process.stderr.write(`picloud: ${message.replace(/\s*\n\s*/g, " ")}\n`);
    process.exitCode = 1;
  }
}
