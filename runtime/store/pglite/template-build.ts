// Builds the data-dir template's content: a new in-memory PGlite with every migration applied, dumped
// as a gzipped tar. Run by scripts/build-pgdata-template.mjs in a process of its own (through tsx),
// because initdb's peak of WASM memory stays with the process that ran it.
import { PGlite } from "@electric-sql/pglite";
import { migrate } from "../migrate.js";
import { pgliteDb } from "./index.js";
import { type TemplateSchema, templateSchema } from "./template-schema.js";

export async function buildTemplateContent(): Promise<{ gzip: Buffer; schema: TemplateSchema }> {
  const pg = await PGlite.create("memory://");
  try {
    await migrate(pgliteDb(pg));
    const blob = await pg.dumpDataDir("gzip");
    return { gzip: Buffer.from(await blob.arrayBuffer()), schema: templateSchema() };
  } finally {
    await pg.close();
  }
}
