// Builds out/pgdata-template.tar.gz: an initialised PGlite data directory with every migration applied.
// A fresh data directory is created from it instead of running initdb and the migrations in the server
// process, whose WASM memory would otherwise stay at initdb's peak (~800 MiB), or the migrations' (~120
// MiB more than a database opened again), for the life of the process. Rebuilt only when the installed
// PGlite version or a migration changes; runs in its own process for the same reason.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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

/** A digest of the sources that decide the template's content: the migrations, how they are applied, and the build itself. */
function sourcesDigest() {
  const hash = createHash("sha256");
  const migrations = path.join(root, "runtime", "store", "migrations");
  const files = readdirSync(migrations)
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
    .sort()
    .map((name) => path.join(migrations, name));
  const builders = [path.join(root, "runtime", "store", "migrate.ts"), path.join(root, "runtime", "store", "pglite", "template-build.ts")];
  for (const file of [...files, ...builders]) hash.update(file).update(readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

function isCurrent(version, sources) {
  if (!existsSync(TEMPLATE) || !existsSync(SIDECAR)) return false;
  const built = JSON.parse(readFileSync(SIDECAR, "utf8"));
  return built.pglite === version && built.sources === sources && built.schema !== undefined;
}

/** Whether out/pgdata-template.tar.gz was built from the installed PGlite and today's migrations. */
export function templateIsCurrent() {
  return isCurrent(pgliteVersion(), sourcesDigest());
}

export function buildTemplate() {
  const version = pgliteVersion();
  const sources = sourcesDigest();
  if (isCurrent(version, sources)) return false;
  const module = path.join(root, "runtime", "store", "pglite", "template-build.ts");
  const dump = `
    import { writeFileSync } from "node:fs";
    const { buildTemplateContent } = await import(${JSON.stringify(module)});
    const { gzip, schema } = await buildTemplateContent();
    writeFileSync(${JSON.stringify(TEMPLATE)}, gzip);
    writeFileSync(${JSON.stringify(SIDECAR)}, JSON.stringify({ pglite: ${JSON.stringify(version)}, sources: ${JSON.stringify(sources)}, schema }) + "\\n");`;
  execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", dump], { cwd: root, stdio: "inherit" });
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const built = buildTemplate();
  process.stderr.write(`PGlite data-dir template: ${built ? "built" : "up to date"} (${Math.round(performance.now() - started)} ms)\n`);
}
