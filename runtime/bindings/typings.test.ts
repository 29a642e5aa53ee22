// The SDK typings as the editor uses them (lib es2022 + resources/sdk/picloud.d.ts, no DOM): scripts
// using fetch, Request/Response, URL, crypto.subtle, env and the Workers module style type-check, and
// misuse is a type error.
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SDK = readFileSync(new URL("../../resources/sdk/picloud.d.ts", import.meta.url), "utf8");

function diagnostics(script: string, name = "/script.ts"): string[] {
  const files: Record<string, string> = { "/sdk/picloud.d.ts": SDK, [name]: script };
  const options: ts.CompilerOptions = {
    lib: ["lib.es2022.d.ts"],
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    types: [],
    allowJs: true,
    checkJs: true,
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (file) => files[file] ?? read(file);
  host.fileExists = (file) => file in files || ts.sys.fileExists(file);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, version) =>
    file in files ? ts.createSourceFile(file, files[file] as string, version) : getSourceFile(file, version);
  const program = ts.createProgram(["/sdk/picloud.d.ts", name], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("SDK typings", () => {
  it("a Workers-style webhook with fetch, URL, crypto.subtle, env and Response type-checks", () => {
    expect(
      diagnostics(`
        export default {
          async fetch(request: Request, env: PiEnv, ctx: PiExecutionContext): Promise<Response> {
            const url = new URL(request.url);
            const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.SECRET ?? ""), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
            const ok = await crypto.subtle.verify("HMAC", key, new Uint8Array(32), new TextEncoder().encode(await request.text()));
            const upstream = await fetch("https://example.com/" + url.searchParams.get("q"), { method: "POST", headers: { "x-a": "1" }, body: JSON.stringify({ ok }) });
            ctx.waitUntil(kv.collection("seen").set(crypto.randomUUID(), upstream.status));
            setTimeout(() => console.log(btoa("x"), structuredClone({ a: 1 })), 10);
            return Response.json({ ok, id: ctx.app }, { status: ok ? 200 : 401 });
          },
          async scheduled(controller: PiScheduledController) { console.log(controller.cron); },
        } satisfies PiModule;
      `),
    ).toEqual([]);
  });

  it("a plain handler reads ctx.env; misuse is a type error", () => {
    expect(diagnostics("export default async (ctx: PiContext) => ({ token: ctx.env.TOKEN?.length });")).toEqual([]);
    const errors = diagnostics(`
      export default async (ctx: PiContext) => {
        const n: number = ctx.env.TOKEN;
        await fetch(42);
        new Response("x").status = 3;
      };
    `);
    expect(errors.length).toBe(3);
  });

  it("the Workers-style examples type-check as JavaScript", () => {
    for (const file of ["signed-webhook.js", "fetch-proxy.js"]) {
      const source = readFileSync(new URL(`../../resources/examples/${file}`, import.meta.url), "utf8");
      expect(diagnostics(source, `/${file}`), file).toEqual([]);
    }
  });
});
