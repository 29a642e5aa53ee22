// A new PGlite data directory is unpacked from out/pgdata-template.tar.gz on disk before PGlite opens it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPglite } from "./index.js";
import { unpackTemplate } from "./template.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

describe("the PGlite data-dir template", { timeout: 120_000 }, () => {
  let dir: string;

  beforeAll(() => {
    // Built by `npm run build` and `pretest`; built here too so the file also runs alone (a no-op when current).
    execFileSync(process.execPath, ["scripts/build-pgdata-template.mjs"], { cwd: ROOT, stdio: "ignore" });
    dir = mkdtempSync(path.join(os.tmpdir(), "picloud-template-"));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("unpacks into a new directory that PGlite opens as an existing database", async () => {
    const pgdata = path.join(dir, "new", "pgdata");
    mkdirSync(path.dirname(pgdata));
    expect(await unpackTemplate(pgdata)).toBe(true);
    expect(existsSync(path.join(pgdata, "PG_VERSION"))).toBe(true);
    expect(readdirSync(path.dirname(pgdata))).toEqual(["pgdata"]); // no staging directory left
    const db = await openPglite(pgdata);
    try {
      await db.exec("create table t (n int)");
      await db.query("insert into t values (1)");
      expect(await db.query("select n from t")).toEqual([{ n: 1 }]);
    } finally {
      await db.close();
    }
  });

  it("leaves a directory that already holds files to PGlite", async () => {
    const pgdata = path.join(dir, "used");
    mkdirSync(pgdata);
    writeFileSync(path.join(pgdata, "something"), "x");
    expect(await unpackTemplate(pgdata)).toBe(false);
    expect(readdirSync(pgdata)).toEqual(["something"]);
  });
});
