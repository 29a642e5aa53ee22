// The import direction (docs/architecture.md): each layer of runtime/ imports only the layers below it,
// runtime/ and renderer/ never import Electron, and the renderer reaches the runtime only through its API
// client. `npm run lint` runs this over runtime/, main/ and renderer/; type-only imports count too.
// A violation is fixed by moving code to the layer it belongs to, not by an exception here.

/** runtime/ from the bottom up: a layer may import itself and those before it, never one after it. */
const LAYERS = ["shared", "store", "bindings", "executor", "orchestrator", "core", "node", "manager", "(main|embedded)\\.ts$", "cli"];
const TESTS = "\\.(test|spec)\\.ts$";
const path = (layer) => (layer.endsWith("$") ? `^runtime/${layer}` : `^runtime/${layer}/`);

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.replace(/\W.*/, "")}`,
  comment: `runtime/${layer} imports only the layers below it: ${LAYERS.slice(0, i).join(", ") || "none"}`,
  severity: "error",
  from: { path: path(layer), pathNot: TESTS },
  to: { path: LAYERS.slice(i + 1).map(path) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "client-imports-shared-only",
      comment: "runtime/client is loaded by the renderer and the CLI: of the runtime it imports only shared/",
      severity: "error",
      from: { path: "^runtime/client/" },
      to: { path: "^runtime/", pathNot: "^runtime/(client|shared)/" },
    },
    {
      name: "no-electron-outside-main",
      comment: "Only the Electron main process (main/) imports Electron; the runtime runs without it",
      severity: "error",
      from: { path: "^(runtime|renderer)/" },
      to: { path: "(^|/)node_modules/electron/|^electron$" },
    },
    {
      name: "runtime-not-to-desktop",
      comment: "runtime/ knows nothing of the desktop app (main/) or the control panel (renderer/)",
      severity: "error",
      from: { path: "^runtime/" },
      to: { path: "^(main|renderer)/" },
    },
    {
      name: "renderer-through-the-api",
      comment: "The renderer talks to a runtime through the API client: of runtime/ it imports only client/ and shared/",
      severity: "error",
      from: { path: "^renderer/" },
      to: { path: "^runtime/", pathNot: "^runtime/(client|shared)/" },
    },
    {
      name: "renderer-main-contract-only",
      comment: "Of main/, the renderer imports only the IPC contract and the validation both sides share",
      severity: "error",
      from: { path: "^renderer/" },
      to: { path: "^main/", pathNot: "^main/(ipc-contract|connection-validation)\\.ts$" },
    },
    {
      name: "testing-only-in-tests",
      comment: "runtime/testing (test databases, processes, fake clock) is for tests only",
      severity: "error",
      from: { path: "^(runtime|main|renderer)/", pathNot: [TESTS, "^runtime/testing/"] },
      to: { path: "^runtime/testing/" },
    },
    {
      name: "no-test-imports",
      comment: "Code does not import test files",
      severity: "error",
      from: { pathNot: TESTS },
      to: { path: TESTS },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
