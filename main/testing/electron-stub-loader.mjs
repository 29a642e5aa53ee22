// Node loader hook: resolves `electron` to the stand-in next to this file (see electron-stub.mjs).
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
      export async function resolve(specifier, context, next) {
        if (specifier === "electron") return { url: ${JSON.stringify(new URL("./electron-stub.mjs", import.meta.url).href)}, shortCircuit: true };
        return next(specifier, context);
      }
    `),
);
