// Embedded PostgreSQL (PGlite, WASM), file-backed in a data directory, or in memory for tests.
import { PGlite } from "@electric-sql/pglite";
import type { Db, NamedStatement, Queryable, Row } from "../db.js";
import { pgliteArtifacts } from "./artifacts.js";
import { dataDirTemplate, isFreshLocation, unpackTemplate } from "./template.js";

/**
 * Postgres's default 128 MiB of shared buffers would be WASM memory held for the life of the
 * process; the data files are in the OS page cache anyway, so a small buffer pool costs little.
 */
export const DEFAULT_PGLITE_SHARED_BUFFERS_MIB = 16;

export interface PgliteOptions {
  readonly sharedBuffersMiB?: number;
}

/** `location`: a directory path, or "memory://" for a throwaway database. */
export async function openPglite(location: string, options: PgliteOptions = {}): Promise<Db> {
  // A new directory is unpacked from the template on disk first; memory:// loads it through PGlite.
  const inMemory = location.startsWith("memory://");
  const template = isFreshLocation(location) && (inMemory || !(await unpackTemplate(location))) ? dataDirTemplate() : undefined;
  const artifacts = await pgliteArtifacts();
  const pg = await PGlite.create(location, {
    ...artifacts,
    ...(template && { loadDataDir: template }),
    startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${options.sharedBuffersMiB ?? DEFAULT_PGLITE_SHARED_BUFFERS_MIB}MB`],
  });
  return pgliteDb(pg);
}

/** An open PGlite as our Db. */
export function pgliteDb(pg: PGlite): Db {
  const asQueryable = (q: Pick<PGlite, "query">): Queryable => ({
    async query<R extends Row>(sql: string | NamedStatement, params?: readonly unknown[]) {
      const result = await q.query<R>(typeof sql === "string" ? sql : sql.text, params as unknown[] | undefined);
      return result.rows;
    },
  });
  return {
    kind: "pglite",
    ...asQueryable(pg),
    async exec(sql) {
      await pg.exec(sql);
    },
    transaction: (fn) => pg.transaction((tx) => fn(asQueryable(tx))),
    async listen(channel, onPayload) {
      const unsubscribe = await pg.listen(channel, onPayload);
      return unsubscribe;
    },
    async notify(channel, payload) {
      await pg.query("select pg_notify($1, $2)", [channel, payload]);
    },
    health: () => ({ listening: true }),
    // `mod` (the Emscripten module) is protected in PGlite's typings; its heap is the WASM memory.
    wasmMemoryBytes: () => (pg as unknown as { mod?: { HEAPU8?: Uint8Array } }).mod?.HEAPU8?.byteLength ?? 0,
    async close() {
      await pg.close();
    },
  };
}
