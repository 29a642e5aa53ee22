// The import direction (docs/architecture.md): each layer of runtime/ imports only the layers below it,
// runtime/ and renderer/ never import Electron, and the renderer reaches the runtime only through its API
// client. `npm run lint` runs this over runtime/, main/ and renderer/; type-only imports count too.
// A violation is fixed by moving code to the layer it belongs to, not by an exception here.

/** runtime/ from the bottom up: a layer may import itself and those before it, never one after it. */
const LAYERS = ["shared", "store", "bindings", "executor", "orchestrator", "core", "node", "manager", "(main|embedded)\\.ts$", "cli"];
const TESTS = "\\.(test|spec)\\.ts$";
const path = (layer) => (layer.endsWith("$") ? `^runtime/${layer}` : `^runtime/${layer}/`);

const forbid = (name, comment, from, to) => ({ name, comment, severity: "error", from, to });

const layerRules = LAYERS.slice(0, -1).map((layer, i) =>
  forbid(
    `layer-${layer.replace(/\W.*/, "")}`,
    `runtime/${layer} imports only the layers below it: ${LAYERS.slice(0, i).join(", ") || "none"}`,
    { path: path(layer), pathNot: TESTS },
    { path: LAYERS.slice(i + 1).map(path) },
  ),
);

module.exports = {
  forbidden: [
    ...layerRules,
    forbid("client-imports-shared-only", "runtime/client is loaded by the renderer and the CLI: of the runtime it imports only shared/",
      { path: "^runtime/client/" }, { path: "^runtime/", pathNot: "^runtime/(client|shared)/" }),
    forbid("no-electron-outside-main", "Only the Electron main process (main/) imports Electron; the runtime runs without it",
      { path: "^(runtime|renderer)/" }, { path: "(^|/)node_modules/electron/|^electron$" }),
    forbid("runtime-not-to-desktop", "runtime/ knows nothing of the desktop app (main/) or the control panel (renderer/)",
      { path: "^runtime/" }, { path: "^(main|renderer)/" }),
    forbid("renderer-through-the-api", "The renderer talks to a runtime through the API client: of runtime/ it imports only client/ and shared/",
      { path: "^renderer/" }, { path: "^runtime/", pathNot: "^runtime/(client|shared)/" }),
    forbid("renderer-main-contract-only", "Of main/, the renderer imports only the IPC contract and the validation both sides share",
      { path: "^renderer/" }, { path: "^main/", pathNot: "^main/(ipc-contract|connection-validation)\\.ts$" }),
    forbid("testing-only-in-tests", "runtime/testing (test databases, processes, fake clock) is for tests only",
      { path: "^(runtime|main|renderer)/", pathNot: [TESTS, "^runtime/testing/"] }, { path: "^runtime/testing/" }),
    forbid("no-test-imports", "Code does not import test files",
      { pathNot: TESTS }, { path: TESTS }),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
