// Monaco from the local package (no CDN: the app must work offline), its workers bundled by Vite,
// and the SDK typings loaded so kv, ctx and NonRetriableError autocomplete and type-check.
import { loader } from "@monaco-editor/react";
import * as monaco from "monaco-editor";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import JsonWorker from "monaco-editor/language/json/json.worker?worker";
import TsWorker from "monaco-editor/language/typescript/ts.worker?worker";
import sdkTypes from "../../resources/sdk/picloud.d.ts?raw";

self.MonacoEnvironment = {
  getWorker(_workerId: string, label: string) {
    if (label === "typescript" || label === "javascript") return new TsWorker();
    if (label === "json") return new JsonWorker();
    return new EditorWorker();
  },
};

const ts = monaco.typescript;
for (const defaults of [ts.javascriptDefaults, ts.typescriptDefaults]) {
  defaults.addExtraLib(sdkTypes, "file:///sdk/picloud.d.ts");
  defaults.setCompilerOptions({
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ESNext,
    allowNonTsExtensions: true,
    checkJs: true,
    strict: false,
    // No DOM or Node typings: scripts have neither, so `fetch` or `process` are flagged.
    lib: ["es2022"],
  });
  defaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false });
}

loader.config({ monaco });

export { monaco };
