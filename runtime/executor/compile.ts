// Deploy-time checks and TypeScript stripping. Runs on the host, never in the sandbox:
// esbuild parses (syntax errors with line and column, import and export detection) and
// sucrase strips types while keeping every line where it was, so script errors point at the source.
import type { Message } from "esbuild";
import { PiCloudError } from "../shared/errors.js";
import type { ScriptLanguage } from "../store/scripts.js";
import { commonJsExports } from "../shared/commonjs.js";

export const MAX_SOURCE_BYTES = 1024 * 1024;

export interface CompiledScript {
  readonly language: ScriptLanguage;
  readonly compiled: string;
}

function positionOf(message: Message | undefined): { line?: number; column?: number } {
  const location = message?.location;
  return location ? { line: location.line, column: location.column + 1 } : {};
}

export async function compileScript(source: string, language: ScriptLanguage): Promise<CompiledScript> {
  if (typeof source !== "string" || source.trim() === "") {
    throw new PiCloudError("SCRIPT_SYNTAX", "The script is empty.", { details: { line: 1, column: 1 } });
  }
  if (Buffer.byteLength(source) > MAX_SOURCE_BYTES) {
    throw new PiCloudError("SCRIPT_TOO_LARGE", `Scripts are limited to ${MAX_SOURCE_BYTES} bytes.`);
  }
  let exports: string[] = [];
  let imports: string[] = [];
  // Loaded on the first deploy, not at start: a process that only serves scripts never needs them.
  const { build } = await import("esbuild");
  try {
    const result = await build({
      stdin: { contents: source, loader: language === "typescript" ? "ts" : "js", sourcefile: "script" },
      bundle: false,
      write: false,
      metafile: true,
      format: "esm",
      target: "es2023",
      logLevel: "silent",
    });
    const output = Object.values(result.metafile.outputs)[0];
    exports = output?.exports ?? [];
    imports = (output?.imports ?? []).map((i) => i.path);
  } catch (error) {
    const first = (error as { errors?: Message[] }).errors?.[0];
    const position = positionOf(first);
    const where = position.line ? ` (line ${position.line}, column ${position.column})` : "";
    throw new PiCloudError("SCRIPT_SYNTAX", `${first?.text ?? "Syntax error"}${where}`, { details: position });
  }
  if (imports.length > 0) {
    throw new PiCloudError("SCRIPT_IMPORT_UNSUPPORTED", `Scripts cannot import modules (found '${imports[0]}'); use the global SDK.`);
  }
  if (!exports.includes("default")) {
    throw new PiCloudError(
      "SCRIPT_NO_DEFAULT_EXPORT",
      "The script must default-export its handler: export default async function (ctx) { ... }",
    );
  }
  if (language === "javascript") return { language, compiled: source };
  const { transform } = commonJsExports(await import("sucrase"), "transform");
  const compiled = transform(source, { transforms: ["typescript"], disableESTransforms: true }).code;
  return { language, compiled };
}
