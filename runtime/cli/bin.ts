// Entry of the bundled command (out/runtime/picloud.mjs, built by `npm run build`).
import { runCli } from "./index.js";

await runCli(process.argv);
