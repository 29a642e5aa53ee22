// Worker thread bootstrap for running from TypeScript sources: registers the TypeScript loader in
// this thread, then loads the worker. Bundled builds start a compiled worker.js instead.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
