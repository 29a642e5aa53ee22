// The shipped examples type-check against the SDK typings exactly as the editor checks them
// (JavaScript with checkJs, no DOM or Node typings): a user opening one sees no red underline.
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const examples = readdirSync(path.join(root, "resources/examples")).map((f) => path.join(root, "resources/examples", f));

describe("SDK typings", () => {
  it("type-check every shipped example with no diagnostics", () => {
    const program = ts.createProgram([path.join(root, "resources/sdk/picloud.d.ts"), ...examples], {
      noEmit: true,
      allowJs: true,
      checkJs: true,
      strict: false,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2022.d.ts"],
      types: [],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : "";
      return `${where} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
    });
    expect(examples.length).toBeGreaterThan(0);
    expect(diagnostics).toEqual([]);
  });
});
