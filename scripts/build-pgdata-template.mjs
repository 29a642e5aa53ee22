// Builds out/pgdata-template.tar.gz: an empty, initialised PGlite data directory. A fresh data
// directory is created from it instead of running initdb in the server process, whose WASM
// memory would otherwise stay at initdb's peak (~800 MiB) for the life of the process.
// Rebuilt only when the installed PGlite version changes; runs in its own process for the same reason.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const TEMPLATE = path.join(root, "out", "pgdata-template.tar.gz");
const SIDECAR = `${TEMPLATE}.json`;

function pgliteVersion() {
  const entry = createRequire(path.join(root, "package.json")).resolve("@electric-sql/pglite");
  let dir = path.dirname(entry);
  while (!existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).version;
}

export function buildTemplate() {
  const version = pgliteVersion();
  if (existsSync(TEMPLATE) && existsSync(SIDECAR) && JSON.parse(readFileSync(SIDECAR, "utf8")).pglite === version) return false;
  const dump = `
    import { PGlite } from "@electric-sql/pglite";
    import { writeFileSync } from "node:fs";
    const pg = await PGlite.create("memory://");
    const blob = await pg.dumpDataDir("gzip");
    writeFileSync(${JSON.stringify(TEMPLATE)}, Buffer.from(await blob.arrayBuffer()));
    await pg.close();`;
  execFileSync(process.execPath, ["--input-type=module", "-e", dump], { cwd: root, stdio: "inherit" });
  writeFileSync(SIDECAR, `${JSON.stringify({ pglite: version })}\n`);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const built = buildTemplate();
  process.stderr.write(`PGlite data-dir template: ${built ? "built" : "up to date"} (${Math.round(performance.now() - started)} ms)\n`);
}
