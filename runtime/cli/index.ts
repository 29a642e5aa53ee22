// The `picloud` command. Its names, flags and --json shapes are a contract other tools rely on.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { PiCloudError } from "../shared/errors.js";
import { PICLOUD_VERSION } from "../shared/version.js";
import type { PiCloudApi } from "../client/api-client.js";
import type { AppSettingsView, EventStatus, InvocationRecord, ScriptSettingsView, Trigger } from "../client/types.js";
import { preloadPgliteArtifacts } from "../store/pglite/artifacts.js";
import { ApiError, CliError, cliApi } from "./client.js";
import { readSecretValue } from "./read-secret.js";

interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

const program = new Command("picloud")
  .description("PiCloud: write a script, get an HTTP endpoint.")
  .version(PICLOUD_VERSION)
  // Usage errors end like every other failure, in one line (runCli); --help and --version still print and exit 0.
  .exitOverride()
  .configureOutput({ outputError: () => {} })
  .addOption(new Option("--url <url>", "runtime base URL").env("PICLOUD_URL").default("http://127.0.0.1:8787"))
  .addOption(new Option("--token <token>", "admin token").env("PICLOUD_TOKEN"))
  .option("--json", "machine-readable JSON output");

function client(): { api: PiCloudApi; json: boolean } {
  const options = program.opts<GlobalOptions>();
  return { api: cliApi({ url: options.url, token: options.token }), json: options.json === true };
}

/** Writes the result: JSON with --json, else the human text (nothing when it is empty: the ids a command missed go to stderr alone, as its one-line error). */
function print(json: boolean, data: unknown, human: () => string): void {
  const text = json ? JSON.stringify(data, null, 2) : human();
  if (json || text !== "") process.stdout.write(`${text}\n`);
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

// ---- serve ----
program
  .command("serve")
  .description("run the all-in-one runtime (admin API, ingress, executor) in the foreground")
  .option("--host <host>", "interface to listen on (env PICLOUD_HOST)")
  .option("--port <port>", "port to listen on (env PICLOUD_PORT)", parseInteger)
  .option("--data-dir <dir>", "data directory for the embedded database (env PICLOUD_DATA_DIR)")
  .option("--database-url <url>", "use an external PostgreSQL instead of the embedded one (env PICLOUD_DATABASE_URL)")
  .option("--workers <n>", "executor worker threads", parseInteger)
  .option("--public-url <url>", "the URL other machines reach this process at (default: the bound address; env PICLOUD_PUBLIC_URL)")
  .action(async (o: { host?: string; port?: number; dataDir?: string; databaseUrl?: string; workers?: number; publicUrl?: string }) => {
    // The embedded database's WebAssembly compiles on another core while the runtime's modules load.
    if (!o.databaseUrl && !process.env.PICLOUD_DATABASE_URL) preloadPgliteArtifacts();
    // Loaded on demand: client commands should not pay for the whole runtime's start-up.
    const { serve } = await import("./serve.js");
    await serve({
      host: o.host,
      port: o.port,
      dataDir: o.dataDir,
      databaseUrl: o.databaseUrl,
      executorWorkers: o.workers,
      publicUrl: o.publicUrl,
    });
  });

// ---- cluster: manager and node ----
program
  .command("manager")
  .description("run the cluster manager (admin API, dashboard, live stream) on a shared PostgreSQL")
  .requiredOption("--database-url <url>", "the cluster's PostgreSQL (env PICLOUD_DATABASE_URL)", process.env.PICLOUD_DATABASE_URL)
  .option("--host <host>", "interface to listen on (env PICLOUD_HOST)")
  .option("--port <port>", "port to listen on (env PICLOUD_PORT)", parseInteger)
  .option("--public-url <url>", "the URL other machines reach this process at (default: the bound address; env PICLOUD_PUBLIC_URL)")
  .action(async (o: { host?: string; port?: number; databaseUrl: string; publicUrl?: string }) => {
    const { manager } = await import("./serve.js");
    await manager({ host: o.host, port: o.port, databaseUrl: o.databaseUrl, publicUrl: o.publicUrl });
  });
program
  .command("node")
  .description("run a cluster node (script endpoints, events, schedules) on a shared PostgreSQL")
  .requiredOption("--database-url <url>", "the cluster's PostgreSQL (env PICLOUD_DATABASE_URL)", process.env.PICLOUD_DATABASE_URL)
  .option("--host <host>", "interface to listen on (env PICLOUD_HOST)")
  .option("--port <port>", "port to listen on (env PICLOUD_PORT)", parseInteger)
  .option("--name <name>", "node name, unique in the cluster (default: host name and port; env PICLOUD_NODE_NAME)")
  .option("--workers <n>", "executor worker threads", parseInteger)
  .option("--public-url <url>", "the URL other machines reach this process at (default: the bound address; env PICLOUD_PUBLIC_URL)")
  .action(async (o: { host?: string; port?: number; databaseUrl: string; name?: string; workers?: number; publicUrl?: string }) => {
    const { node } = await import("./serve.js");
    await node({
      host: o.host,
      port: o.port,
      databaseUrl: o.databaseUrl,
      nodeName: o.name,
      executorWorkers: o.workers,
      publicUrl: o.publicUrl,
    });
  });
const nodes = program.command("nodes").description("cluster nodes");
nodes
  .command("list")
  .description("every node with its status (up, draining, down), version and load")
  .action(async () => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/nodes");
    print(json, result.nodes, () =>
      result.nodes.length
        ? table([
            ["NAME", "ROLE", "STATUS", "VERSION", "URL", "LAST SEEN", "REQ/MIN", "ERR/MIN", "P99 MS", "IN FLIGHT"],
            ...result.nodes.map((n) => [
              n.name,
              n.role,
              n.status,
              n.version,
              n.url,
              n.lastSeenAt,
              String(n.load?.requests ?? "-"),
              String(n.load?.errors ?? "-"),
              String(n.load?.p99Ms ?? "-"),
              String(n.load?.inFlight ?? "-"),
            ]),
          ])
        : "No nodes.",
    );
  });

// ---- apps ----
const apps = program.command("apps").description("manage apps (tenants)");
apps
  .command("create <app>")
  .description("create an app")
  .option("--strict", "fresh sandbox for every invocation")
  .action(async (app: string, o: { strict?: boolean }) => {
    const { api, json } = client();
    const created = await api.POST("/api/v1/apps", { body: { id: app, ...(o.strict && { settings: { strict: true } }) } });
    print(json, created, () => `Created app ${created.id}`);
  });
apps
  .command("list")
  .description("list apps")
  .action(async () => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/apps");
    print(json, result.apps, () =>
      result.apps.length ? table([["APP", "CREATED"], ...result.apps.map((a) => [a.id, a.createdAt])]) : "No apps.",
    );
  });
apps
  .command("delete <app>")
  .description("delete an app with its scripts, data and records")
  .action(async (app: string) => {
    const { api, json } = client();
    await api.DELETE("/api/v1/apps/{app}", { params: { path: { app } } });
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
      throw new CliError(
        error.code === "ENOENT" ? `Cannot read ${file}: there is no such file.` : `Cannot read ${file}: ${error.code ?? error.message}.`,
      );
    });
    const ext = path.extname(file).toLowerCase();
    const name =
      o.name ??
      path
        .basename(file, ext)
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, "-");
    const language = ext === ".ts" || ext === ".mts" ? ("typescript" as const) : ("javascript" as const);
    const deployed = await api.PUT("/api/v1/apps/{app}/scripts/{name}", {
      params: { path: { app: o.app, name } },
      body: { source, language },
    });
    print(json, deployed, () => deployed.url);
    // A manager alone serves no scripts: say whose address that is (on stderr: stdout stays the URL).
    if (!json && deployed.servedBy === "node") {
      process.stderr.write("Served by the cluster's nodes; this is one node's address (clients should use your front door, e.g. Caddy).\n");
    }
    if (!json && deployed.servedBy === "no-node-up") {
      process.stderr.write("No node is up: the script is served by the nodes ('picloud node'), at this path behind your front door.\n");
    }
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
  // --event is any JSON; the server answers VALIDATION_FAILED unless it is an object.
  .action(async (script: string, o: { app: string; method: string; path: string; data?: unknown; event?: Record<string, unknown> }) => {
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
    const result = await api.POST("/api/v1/apps/{app}/scripts/{name}/invoke", { params: { path: { app: o.app, name: script } }, body });
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
  // --status is passed on as typed: the server answers VALIDATION_FAILED for anything but ok or error.
  .action(async (o: { app: string; script?: string; status?: InvocationRecord["status"]; limit: number }) => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/invocations", {
      params: { query: { app: o.app, limit: o.limit, script: o.script || undefined, status: o.status || undefined } },
    });
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
    const result = await api.GET("/api/v1/apps/{app}/scripts/{name}/versions", { params: { path: { app: o.app, name: script } } });
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
    const restored = await api.POST("/api/v1/apps/{app}/scripts/{name}/versions/{version}/restore", {
      params: { path: { app: o.app, name: script, version: parseInteger(version) } },
    });
    print(json, restored, () => `Restored version ${version} as version ${restored.version}: ${restored.url}`);
  });
program
  .command("delete <script>")
  .description("delete a script with its versions and settings (its endpoint answers 404 at once)")
  .requiredOption("--app <app>", "app of the script")
  .action(async (script: string, o: { app: string }) => {
    const { api, json } = client();
    await api.DELETE("/api/v1/apps/{app}/scripts/{name}", { params: { path: { app: o.app, name: script } } });
    print(json, { deleted: script, app: o.app }, () => `Deleted script ${script} of app ${o.app}`);
  });

// ---- kv ----
const kv = program.command("kv").description("read and write an app's KV data");
kv.command("get <collection> <key>")
  .requiredOption("--app <app>", "app")
  .description("print a value as JSON")
  .action(async (collection: string, key: string, o: { app: string }) => {
    const { api, json } = client();
    const entry = await api.GET("/api/v1/apps/{app}/kv/{collection}/{key}", { params: { path: { app: o.app, collection, key } } });
    print(json, entry, () => JSON.stringify(entry.value, null, 2));
  });
kv.command("set <collection> <key> <value>")
  .requiredOption("--app <app>", "app")
  .description("store a JSON value (quote strings: '\"text\"')")
  .action(async (collection: string, key: string, value: string, o: { app: string }) => {
    const { api, json } = client();
    const parsed = parseJson("value")(value);
    const result = await api.PUT("/api/v1/apps/{app}/kv/{collection}/{key}", {
      params: { path: { app: o.app, collection, key } },
      body: { value: parsed },
    });
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
      const result = await api.GET("/api/v1/apps/{app}/kv", { params: { path: { app: o.app } } });
      print(json, result, () => table([["COLLECTION", "KEYS"], ...result.collections.map((c) => [c.name, String(c.count)])]));
      return;
    }
    const page = await api.GET("/api/v1/apps/{app}/kv/{collection}", {
      params: {
        path: { app: o.app, collection },
        query: { prefix: o.prefix || undefined, cursor: o.cursor || undefined, limit: o.limit || undefined },
      },
    });
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
    await api.DELETE("/api/v1/apps/{app}/kv/{collection}/{key}", { params: { path: { app: o.app, collection, key } } });
    print(json, { deleted: key }, () => `Deleted ${collection}/${key}`);
  });

// ---- token ----
// `tokens` too: every other noun of the CLI is plural (apps, nodes, secrets, triggers).
const token = program.command("token").alias("tokens").description("manage admin tokens");
token
  .command("create <name>")
  .description("create an admin token (shown once)")
  .action(async (name: string) => {
    const { api, json } = client();
    const created = await api.POST("/api/v1/tokens", { body: { name } });
    print(json, created, () => created.token);
  });
token
  .command("list")
  .description("list admin tokens (never their values)")
  .action(async () => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/tokens");
    print(json, result.tokens, () =>
      table([["ID", "NAME", "CREATED", "LAST USED"], ...result.tokens.map((t) => [t.id, t.name, t.createdAt, t.lastUsedAt ?? "never"])]),
    );
  });
token
  .command("revoke <id>")
  .description("revoke an admin token")
  .action(async (id: string) => {
    const { api, json } = client();
    await api.DELETE("/api/v1/tokens/{id}", { params: { path: { id } } });
    print(json, { revoked: id }, () => `Revoked token ${id}`);
  });

// ---- triggers ----
function describeTrigger(t: Trigger): string {
  if (t.kind === "kv") return `kv ${t.collection} [${t.ops.join(",")}]${t.prefix ? ` prefix ${t.prefix}` : ""}`;
  if (t.kind === "schedule") return `cron "${t.cron}" ${t.timezone}`;
  return `dead letters${t.forScript ? ` of ${t.forScript}` : ""}`;
}

const triggers = program.command("triggers").description("bind scripts to KV changes, schedules and dead letters");
triggers
  .command("add")
  .description("add a trigger: exactly one of --kv, --cron, --dead-letter")
  .requiredOption("--app <app>", "app")
  .requiredOption("--script <script>", "script to run")
  .option("--kv <collection>", "run on changes to this KV collection")
  .option("--ops <ops>", "which changes: insert,update,delete (default all)")
  .option("--prefix <prefix>", "only keys starting with this")
  .option("--cron <expr>", "run on this cron schedule (5 fields, 6 with seconds first, 7 with a year last, or @daily etc.)")
  .option("--tz <zone>", "time zone of the schedule (default UTC)")
  .option("--dead-letter", "run for the app's dead letters")
  .option("--for-script <script>", "with --dead-letter: only dead letters of this script")
  .option("--max-attempts <n>", "attempts in all before the event is dead-lettered (default 5)", parseInteger)
  .option("--backoff <ms>", "first retry delay in ms, doubling per attempt (default 1000)", parseInteger)
  .action(
    async (o: {
      app: string;
      script: string;
      kv?: string;
      ops?: string;
      prefix?: string;
      cron?: string;
      tz?: string;
      deadLetter?: boolean;
      forScript?: string;
      maxAttempts?: number;
      backoff?: number;
    }) => {
      const { api, json } = client();
      const kinds = [o.kv !== undefined, o.cron !== undefined, o.deadLetter === true].filter(Boolean).length;
      if (kinds !== 1) throw new PiCloudError("TRIGGER_INVALID", "Give exactly one of --kv COLLECTION, --cron EXPR or --dead-letter.");
      const retry = {
        ...(o.maxAttempts !== undefined && { maxAttempts: o.maxAttempts }),
        ...(o.backoff !== undefined && { backoffMs: o.backoff }),
      };
      const body = o.kv
        ? {
            kind: "kv" as const,
            script: o.script,
            collection: o.kv,
            ...(o.ops && { ops: o.ops.split(",").map((op) => op.trim()) }),
            ...(o.prefix && { prefix: o.prefix }),
            ...retry,
          }
        : o.cron
          ? { kind: "schedule" as const, script: o.script, cron: o.cron, ...(o.tz && { timezone: o.tz }), ...retry }
          : { kind: "dead_letter" as const, script: o.script, ...(o.forScript && { forScript: o.forScript }), ...retry };
      const created = await api.POST("/api/v1/apps/{app}/triggers", { params: { path: { app: o.app } }, body });
      print(json, created, () => `Added trigger ${created.id}: ${created.script} on ${describeTrigger(created)}`);
    },
  );
triggers
  .command("list")
  .description("list an app's triggers")
  .requiredOption("--app <app>", "app")
  .action(async (o: { app: string }) => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/apps/{app}/triggers", { params: { path: { app: o.app } } });
    print(json, result.triggers, () =>
      result.triggers.length
        ? table([
            ["ID", "SCRIPT", "ON", "ATTEMPTS", "BACKOFF"],
            ...result.triggers.map((t) => [t.id, t.script, describeTrigger(t), String(t.maxAttempts), `${t.backoffMs}ms`]),
          ])
        : "No triggers.",
    );
  });
triggers
  .command("remove <id>")
  .description("remove a trigger")
  .action(async (id: string) => {
    const { api, json } = client();
    await api.DELETE("/api/v1/triggers/{id}", { params: { path: { id } } });
    print(json, { removed: id }, () => `Removed trigger ${id}`);
  });

// ---- dead letters ----
const deadletters = program.command("deadletters").description("inspect, replay and delete events that failed for good");
deadletters
  .command("list")
  .description("list dead letters, newest first")
  .requiredOption("--app <app>", "app")
  .option("--script <script>", "only this script's")
  .option("--since <time>", "only newer than this ISO time")
  .option("--limit <n>", "how many", parseInteger, 50)
  .action(async (o: { app: string; script?: string; since?: string; limit: number }) => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/deadletters", {
      params: { query: { app: o.app, limit: o.limit, script: o.script || undefined, since: o.since || undefined } },
    });
    print(json, result.deadLetters, () =>
      result.deadLetters.length
        ? table([
            ["ID", "SCRIPT", "CREATED", "ATTEMPTS", "LAST ERROR"],
            ...result.deadLetters.map((d) => [
              d.id,
              d.script,
              d.createdAt,
              String(d.attempts.length),
              d.attempts.at(-1)?.error.message.slice(0, 60) ?? "",
            ]),
          ])
        : "No dead letters.",
    );
  });
deadletters
  .command("show <id>")
  .description("show a dead letter with its event and every attempt")
  .action(async (id: string) => {
    const { api, json } = client();
    const letter = await api.GET("/api/v1/deadletters/{id}", { params: { path: { id } } });
    print(json, letter, () =>
      [
        `Dead letter ${letter.id} (app ${letter.app}, script ${letter.script}, event ${letter.eventId})`,
        `Event: ${JSON.stringify(letter.event)}`,
        ...letter.attempts.map((a) => `  attempt ${a.attempt} at ${a.at}: ${a.error.code}: ${a.error.message}`),
        ...(letter.handlerStatus ? [`Dead-letter handler: ${letter.handlerStatus}`] : []),
      ].join("\n"),
    );
  });
deadletters
  .command("replay <ids...>")
  .description("replay dead letters as fresh events against the current script version")
  .action(async (ids: string[]) => {
    const { api, json } = client();
    const result = await api.POST("/api/v1/deadletters/replay", { body: { ids } });
    print(json, result, () => result.replayed.map((r) => `Replayed ${r.deadLetter} as event ${r.event}`).join("\n"));
    if (result.missing.length > 0) throw new ApiError(404, "DEAD_LETTER_NOT_FOUND", `No dead letter ${result.missing.join(", ")}.`);
  });
deadletters
  .command("delete <ids...>")
  .description("delete dead letters")
  .action(async (ids: string[]) => {
    const { api, json } = client();
    const result = await api.POST("/api/v1/deadletters/delete", { body: { ids } });
    print(json, result, () => result.deleted.map((d) => `Deleted ${d}`).join("\n"));
    if (result.missing.length > 0) throw new ApiError(404, "DEAD_LETTER_NOT_FOUND", `No dead letter ${result.missing.join(", ")}.`);
  });

// ---- events ----
const events = program.command("events").description("recent events and a live stream");
events
  .command("list")
  .description("recent events with their delivery status, newest first")
  .requiredOption("--app <app>", "app")
  .option("--status <status>", "pending, running, done, dead or failed")
  .option("--limit <n>", "how many", parseInteger, 50)
  // --status is passed on as typed: the server answers VALIDATION_FAILED for a status it does not know.
  .action(async (o: { app: string; status?: EventStatus; limit: number }) => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/events", { params: { query: { app: o.app, limit: o.limit, status: o.status || undefined } } });
    print(json, result.events, () =>
      result.events.length
        ? table([
            ["ID", "SCRIPT", "KIND", "STATUS", "ATTEMPTS", "CREATED"],
            ...result.events.map((e) => [e.id, e.script, e.kind, e.status, `${e.attempts}/${e.maxAttempts}`, e.createdAt]),
          ])
        : "No events.",
    );
  });
events
  .command("tail")
  .description("follow events and invocations live (Ctrl-C to stop)")
  .requiredOption("--app <app>", "app")
  .action(async (o: { app: string }) => {
    const { api, json } = client();
    await api.stream({ app: o.app }, (message) => {
      if (json) {
        process.stdout.write(`${JSON.stringify({ type: message.type, ...message.data })}\n`);
        return;
      }
      const now = new Date().toISOString();
      switch (message.type) {
        case "invocation": {
          const { startedAt, script, trigger, status, durationMs, error } = message.data;
          process.stdout.write(
            `${startedAt} invocation ${script} ${trigger} ${status} ${durationMs.toFixed(1)}ms${error ? ` ${error.code}: ${error.message}` : ""}\n`,
          );
          break;
        }
        case "change":
          process.stdout.write(`${now} change ${message.data.method} ${message.data.path}\n`);
          break;
        case "event": {
          const { id, script, kind, status, attempt } = message.data;
          process.stdout.write(`${now} event ${id} ${script} ${kind} ${status} attempt ${attempt}\n`);
          break;
        }
        case "dropped":
          process.stdout.write(`${now} dropped ${message.data.skipped} messages (this client read too slowly)\n`);
          break;
      }
    });
  });

// ---- settings: an app's, or a script's own over its app's ----
function settingsTable(view: ScriptSettingsView | AppSettingsView): string {
  const rows = [
    ["strict", String(view.effective.strict.value), view.effective.strict.source],
    ...Object.entries(view.effective.limits).map(([name, { value, source }]) => [name, String(value), source]),
  ];
  if ("recordSampleRate" in view.effective) {
    const { recordSampleRate, browserSandbox, appKey } = view.effective;
    rows.push(
      ["recordSampleRate", String(recordSampleRate.value), recordSampleRate.source],
      ["browserSandbox", String(browserSandbox.value), browserSandbox.source],
      ["appKey", appKey.set ? "set" : "not set", "app"],
    );
  }
  return table([["SETTING", "VALUE", "FROM"], ...rows]);
}

/** `--limit cpuMs=5000`, repeatable. */
function collectLimit(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const match = /^([A-Za-z]+)=(\d+)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError("Write a limit as NAME=WHOLE_NUMBER, e.g. cpuMs=5000.");
  return { ...previous, [match[1] as string]: Number(match[2]) };
}

const collectName = (value: string, previous: string[] = []): string[] => [...previous, value];

function parseRate(value: string): number {
  const rate = Number(value);
  if (value.trim() === "" || !Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new InvalidArgumentError("Give a share between 0 and 1, e.g. 0.05.");
  return rate;
}

interface SettingsChange {
  strict?: boolean;
  limit?: Record<string, number>;
  unset?: string[];
  clear?: boolean;
}

/** Own settings after a change: named values replace, `--unset` names drop, `--clear` starts from nothing. */
function changedSettings<T extends { strict?: boolean; limits?: Record<string, number> }>(current: T, o: SettingsChange): T {
  const next: Record<string, unknown> = o.clear ? {} : { ...current };
  const limits: Record<string, number> = { ...(o.clear ? {} : current.limits), ...o.limit };
  if (o.strict !== undefined) next.strict = o.strict;
  for (const name of o.unset ?? []) {
    if (name === "strict" || name === "recordSampleRate" || name === "browserSandbox") delete next[name];
    else delete limits[name];
  }
  delete next.limits;
  if (Object.keys(limits).length > 0) next.limits = limits;
  return next as T;
}

const settings = program
  .command("settings")
  .description("an app's settings over the server's defaults, or a script's own over its app's: server < app < script");
settings
  .command("show")
  .description("what the app's scripts (or one script) run with, and where each value comes from (server, app or script)")
  .requiredOption("--app <app>", "app")
  .option("--script <script>", "one script's settings instead of the app's")
  .action(async (o: { app: string; script?: string }) => {
    const { api, json } = client();
    const view = o.script
      ? await api.GET("/api/v1/apps/{app}/scripts/{name}/settings", { params: { path: { app: o.app, name: o.script } } })
      : await api.GET("/api/v1/apps/{app}/settings", { params: { path: { app: o.app } } });
    print(json, view, () => settingsTable(view));
  });
settings
  .command("set")
  .description("change the app's settings, or with --script the script's own; what you do not name stays as it is")
  .requiredOption("--app <app>", "app")
  .option("--script <script>", "change one script's own settings instead of the app's")
  .option("--strict", "a fresh sandbox for every run")
  .option("--no-strict", "warm sandboxes (for a script: whatever the app says)")
  .option("--limit <name=value>", "override a limit, e.g. cpuMs=5000 (repeatable)", collectLimit)
  .option("--record-sample-rate <share>", "app only: share (0..1) of silent successful HTTP runs stored in full", parseRate)
  .option("--unset <name>", "drop the own value of a limit or setting: the level below applies again (repeatable)", collectName)
  .option("--clear", "drop all own settings (for an app, the app key and browser sandbox setting stay)")
  .action(async (o: SettingsChange & { app: string; script?: string; recordSampleRate?: number }) => {
    const { api, json } = client();
    if (o.script) {
      if (o.recordSampleRate !== undefined) throw new CliError("--record-sample-rate is an app setting: leave out --script.");
      const params = { path: { app: o.app, name: o.script } };
      const current = (await api.GET("/api/v1/apps/{app}/scripts/{name}/settings", { params })).settings;
      const view = await api.PUT("/api/v1/apps/{app}/scripts/{name}/settings", { params, body: { settings: changedSettings(current, o) } });
      print(json, view, () => `Updated settings of ${o.app}/${o.script}\n${settingsTable(view)}`);
      return;
    }
    const params = { path: { app: o.app } };
    const { settings: current } = await api.GET("/api/v1/apps/{app}", { params });
    const next = changedSettings(current, o);
    // The app key and the browser sandbox have their own commands and docs: --clear leaves them as they are.
    if (o.clear)
      Object.assign(
        next,
        current.appKey !== undefined && { appKey: current.appKey },
        current.browserSandbox !== undefined && { browserSandbox: current.browserSandbox },
      );
    if (o.recordSampleRate !== undefined) next.recordSampleRate = o.recordSampleRate;
    await api.PATCH("/api/v1/apps/{app}", { params, body: { settings: next } });
    const view = await api.GET("/api/v1/apps/{app}/settings", { params });
    print(json, view, () => `Updated settings of ${o.app}\n${settingsTable(view)}`);
  });

// ---- secrets and egress ----
const secrets = program.command("secrets").description("an app's secrets (scripts read them as ctx.env / env; values are write-only)");
secrets
  .command("set <name>")
  .requiredOption("--app <app>", "app")
  .description("set a secret: the value is read from stdin, or prompted for on a terminal (never from the command line)")
  .action(async (name: string, o: { app: string }) => {
    const { api, json } = client();
    const value = await readSecretValue(name);
    const info = await api.PUT("/api/v1/apps/{app}/secrets/{name}", { params: { path: { app: o.app, name } }, body: { value } });
    print(json, info, () => `Set ${info.name}`);
  });
secrets
  .command("list")
  .requiredOption("--app <app>", "app")
  .description("secret names and update times (never values)")
  .action(async (o: { app: string }) => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/apps/{app}/secrets", { params: { path: { app: o.app } } });
    print(json, result, () => table([["NAME", "UPDATED"], ...result.secrets.map((s) => [s.name, s.updatedAt])]));
  });
secrets
  .command("delete <name>")
  .requiredOption("--app <app>", "app")
  .description("delete a secret")
  .action(async (name: string, o: { app: string }) => {
    const { api, json } = client();
    await api.DELETE("/api/v1/apps/{app}/secrets/{name}", { params: { path: { app: o.app, name } } });
    print(json, { deleted: name }, () => `Deleted ${name}`);
  });

const egress = program
  .command("egress")
  .description("where an app's fetch may go besides the public internet (private, loopback and link-local are closed by default)");
egress
  .command("allow <patterns...>")
  .requiredOption("--app <app>", "app")
  .description("open destinations: a host, host:port, *.domain, an IP address or a CIDR such as 192.168.1.0/24")
  .action(async (patterns: string[], o: { app: string }) => {
    const { api, json } = client();
    const result = await api.POST("/api/v1/apps/{app}/egress", { params: { path: { app: o.app } }, body: { patterns } });
    print(json, result, () => `Allowed ${patterns.join(", ")}`);
  });
egress
  .command("list")
  .requiredOption("--app <app>", "app")
  .description("the app's allowed patterns")
  .action(async (o: { app: string }) => {
    const { api, json } = client();
    const result = await api.GET("/api/v1/apps/{app}/egress", { params: { path: { app: o.app } } });
    print(json, result, () => table([["PATTERN", "ADDED"], ...result.patterns.map((p) => [p.pattern, p.createdAt])]));
  });
egress
  .command("mode")
  .addArgument(new Argument("[mode]", "public or allowlist (omitted: show the mode)").choices(["public", "allowlist"]))
  .requiredOption("--app <app>", "app")
  .description(
    "show or set the app's egress mode: public (the default: the public internet and the allowed patterns) or allowlist (only the allowed patterns)",
  )
  .action(async (mode: "public" | "allowlist" | undefined, o: { app: string }) => {
    const { api, json } = client();
    const params = { path: { app: o.app } };
    const result =
      mode === undefined
        ? await api.GET("/api/v1/apps/{app}/egress", { params })
        : await api.PUT("/api/v1/apps/{app}/egress/mode", { params, body: { mode } });
    const what =
      result.mode === "allowlist"
        ? `only its allowed patterns (${result.patterns.length})`
        : "the public internet and its allowed patterns";
    print(
      json,
      { mode: result.mode },
      () => `${mode === undefined ? "" : "Set: "}${o.app} egress mode is ${result.mode}: fetch reaches ${what}`,
    );
  });
egress
  .command("remove <pattern>")
  .requiredOption("--app <app>", "app")
  .description("close a pattern again")
  .action(async (pattern: string, o: { app: string }) => {
    const { api, json } = client();
    await api.DELETE("/api/v1/apps/{app}/egress", { params: { path: { app: o.app }, query: { pattern } } });
    print(json, { removed: pattern }, () => `Removed ${pattern}`);
  });

/** What commander says of a command line it cannot run, as the one line every failure ends with. */
function usageError(error: CommanderError, args: readonly string[]): string {
  const reason = error.message.replace(/^error:\s*/, "").replace(/\.$/, "");
  // The deepest command the arguments name: its --help is the one to read.
  const path: string[] = [];
  let command: Command = program;
  for (const arg of args) {
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    path.push(sub.name());
    command = sub;
  }
  return `${reason}; see 'picloud ${[...path, "--help"].join(" ")}' (USAGE)`;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return; // --help, --version
    // A command group without its subcommand (`picloud apps`): commander has printed the group's help.
    if (error instanceof CommanderError && error.code === "commander.help") {
      process.exitCode = error.exitCode;
      return;
    }
    const message =
      error instanceof ApiError || error instanceof PiCloudError
        ? `${error.message} (${error.code})`
        : error instanceof CommanderError
          ? usageError(error, argv.slice(2))
          : error instanceof CliError
            ? `${error.message} (USAGE)`
            : String((error as Error)?.message ?? error);
    process.stderr.write(`picloud: ${message.replace(/\s*\n\s*/g, " ")}\n`);
    process.exitCode = 1;
  }
}
