// A new PGlite data directory is unpacked from out/pgdata-template.tar.gz on disk before PGlite opens it.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  statSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  watch,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPglite } from "./index.js";
import { KvStore } from "../kv.js";
import { schemaState } from "../migrate.js";
import { MIGRATIONS } from "../migrations/index.js";
import { isFreshLocation, unpackTemplate } from "./template.js";
import { templateSchema, templateSchemaFits } from "./template-schema.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const TEMPLATE = path.join(ROOT, "out", "pgdata-template.tar.gz");
const TEMPLATE_MODULE = fileURLToPath(new URL("./template.ts", import.meta.url));
/** Runs unpackTemplate(argv[1]) in a child process (the sources, through tsx). */
const UNPACK_CHILD = [
  "--import",
  "tsx",
  "--input-type=module",
  "-e",
  `const { unpackTemplate } = await import(${JSON.stringify(TEMPLATE_MODULE)}); process.stdout.write(String(await unpackTemplate(process.argv[1])));`,
];
const straceWorks = spawnSync("strace", ["-o", "/dev/null", "true"]).status === 0;

/** Every file and directory under `dir`, relative to it ("" is `dir` itself). */
function tree(dir: string, prefix = ""): string[] {
  const out = [prefix];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const name = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...tree(dir, name));
    else out.push(name);
  }
  return out;
}

/** PGlite opens `dir` as an existing database and answers a query. */
async function expectOpens(dir: string): Promise<void> {
  const db = await openPglite(dir);
  try {
    expect(await db.query("select 1 as one")).toEqual([{ one: 1 }]);
  } finally {
    await db.close();
  }
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid ?? 999_999;
}

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

  it("holds every migration, so a new database, on disk or in memory, starts with nothing to migrate", async () => {
    for (const location of [path.join(dir, "migrated"), "memory://"]) {
      const db = await openPglite(location); // the raw PGlite: openDatabase would migrate what is missing
      try {
        expect((await schemaState(db)).missing).toEqual([]);
        await db.query("insert into apps (id) values ('a')"); // the tables are there, not only their versions
        expect(await new KvStore(db).set("a", "ns", "k", '"v"')).toBeTruthy();
      } finally {
        await db.close();
      }
    }
  });

  it("is used only while it holds no migration this code does not know, SQL and all", () => {
    const held = templateSchema();
    expect(templateSchemaFits(held)).toBe(true);
    const older = Object.fromEntries(Object.entries(held).slice(0, 3)); // the missing ones are migrated at start
    expect(templateSchemaFits(older)).toBe(true);
    expect(templateSchemaFits({ ...held, "999": "0123456789abcdef" })).toBe(false); // a newer build's migration
    const changed = MIGRATIONS.map((m, i) => (i === 1 ? { ...m, sql: `${m.sql};\nselect 1` } : m));
    expect(templateSchemaFits(held, changed)).toBe(false); // a migration edited after the build
    expect(templateSchemaFits(undefined)).toBe(false); // a template from before the schema was recorded
  });

  it("leaves a directory that already holds files to PGlite", async () => {
    const pgdata = path.join(dir, "used");
    mkdirSync(pgdata);
    writeFileSync(path.join(pgdata, "something"), "x");
    expect(await unpackTemplate(pgdata)).toBe(false);
    expect(readdirSync(pgdata)).toEqual(["something"]);
  });

  it.skipIf(!straceWorks || process.platform !== "linux")(
    "fsyncs every unpacked file and directory before the staging directory is renamed into place, and the rename after",
    () => {
      const parent = path.join(dir, "durable");
      mkdirSync(parent);
      const pgdata = path.join(parent, "pgdata");
      const log = path.join(dir, "durable.strace");
      const result = spawnSync(
        "strace",
        ["-f", "-y", "-e", "trace=fsync,fdatasync,rename,renameat,renameat2", "-o", log, process.execPath, ...UNPACK_CHILD, pgdata],
        {
          cwd: ROOT,
          encoding: "utf8",
        },
      );
      expect(result.stdout).toBe("true");
      const lines = readFileSync(log, "utf8").split("\n");
      const renameAt = lines.findIndex((line) => /rename(at2?)?\(.*pgdata\.unpacking-\d+"?, .*pgdata"/.test(line));
      expect(renameAt).toBeGreaterThan(0);
      // strace -y prints the path of each fsynced descriptor: fsync(19</tmp/.../pgdata.unpacking-123/base/1/1249>)
      const synced = (from: number, to: number) =>
        new Set(lines.slice(from, to).flatMap((line) => [...line.matchAll(/f(?:data)?sync\(\d+<([^>]*)>/g)].map((m) => m[1] as string)));
      const before = synced(0, renameAt);
      const staging = [...before].find((file) => /pgdata\.unpacking-\d+$/.test(file));
      expect(staging).toBeDefined();
      const missing = tree(pgdata).filter((name) => !before.has(name === "" ? (staging as string) : path.join(staging as string, name)));
      expect(missing).toEqual([]);
      expect(synced(renameAt, lines.length).has(parent)).toBe(true);
    },
  );

  it("never takes a staging directory abandoned by a dead process for a data directory, and removes it", async () => {
    const parent = path.join(dir, "abandoned");
    const pgdata = path.join(parent, "pgdata");
    const staging = path.join(parent, `pgdata.unpacking-${deadPid()}`);
    mkdirSync(path.join(staging, "base"), { recursive: true });
    writeFileSync(path.join(staging, "PG_VERSION"), "17\n");
    writeFileSync(path.join(staging, "base", "torn"), "half a page");
    expect(isFreshLocation(pgdata)).toBe(true);
    expect(await unpackTemplate(pgdata)).toBe(true);
    expect(readdirSync(parent)).toEqual(["pgdata"]);
    expect(existsSync(path.join(pgdata, "base", "torn"))).toBe(false);
  });

  it("a start killed while unpacking leaves no data directory; the next start unpacks a whole one", async () => {
    const parent = path.join(dir, "killed");
    mkdirSync(parent);
    const pgdata = path.join(parent, "pgdata");
    const child = spawn(process.execPath, [...UNPACK_CHILD, pgdata], { cwd: ROOT, stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // Killed as soon as it has made its staging directory (the unpack then takes hundreds of ms).
    const watcher = watch(parent, (_event, name) => {
      if (String(name).startsWith("pgdata.unpacking-")) child.kill("SIGKILL");
    });
    await exited;
    watcher.close();
    expect(readdirSync(parent)).toEqual([`pgdata.unpacking-${child.pid}`]);
    expect(isFreshLocation(pgdata)).toBe(true);
    expect(await unpackTemplate(pgdata)).toBe(true);
    expect(readdirSync(parent)).toEqual(["pgdata"]);
    expect(tree(pgdata).length).toBeGreaterThan(100);
  });

  it("an empty directory that cannot be replaced (here behind a symlink) is filled in place and PGlite opens it", async () => {
    const parent = path.join(dir, "linked");
    const target = path.join(dir, "linked-target");
    mkdirSync(parent);
    mkdirSync(target);
    const pgdata = path.join(parent, "pgdata");
    symlinkSync(target, pgdata);
    expect(await unpackTemplate(pgdata)).toBe(true);
    expect(lstatSync(pgdata).isSymbolicLink()).toBe(true);
    expect(readdirSync(parent)).toEqual(["pgdata"]); // no staging directory left
    expect(existsSync(path.join(target, "PG_VERSION"))).toBe(true);
    expect(existsSync(path.join(target, ".picloud-unpacking"))).toBe(false);
    expect(isFreshLocation(pgdata)).toBe(false);
    // PGlite's file system cannot open a path through a symlink (ENOENT): the target is the database.
    await expectOpens(target);
  });

  it("a mount point holding only lost+found is filled in place, lost+found untouched, and PGlite opens it", async () => {
    const pgdata = path.join(dir, "mounted");
    mkdirSync(path.join(pgdata, "lost+found"), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(pgdata, "lost+found", "#12345"), "what fsck found");
    const before = { dir: statSync(pgdata).ino, lostFound: statSync(path.join(pgdata, "lost+found")).ino };
    expect(isFreshLocation(pgdata)).toBe(true);
    expect(await unpackTemplate(pgdata)).toBe(true);
    // Filled where it is (a mount point cannot be renamed over), nothing beside it left behind.
    expect(statSync(pgdata).ino).toBe(before.dir);
    expect(readdirSync(path.dirname(pgdata)).filter((name) => name.startsWith("mounted"))).toEqual(["mounted"]);
    expect(statSync(path.join(pgdata, "lost+found")).ino).toBe(before.lostFound);
    expect(readdirSync(path.join(pgdata, "lost+found"))).toEqual(["#12345"]);
    expect(existsSync(path.join(pgdata, "PG_VERSION"))).toBe(true);
    expect(existsSync(path.join(pgdata, ".picloud-unpacking"))).toBe(false);
    expect(isFreshLocation(pgdata)).toBe(false);
    await expectOpens(pgdata);
    // Half-filled there: cleared (but lost+found) and filled again.
    writeFileSync(path.join(pgdata, ".picloud-unpacking"), "");
    writeFileSync(path.join(pgdata, "base", "torn"), "half a page");
    expect(await unpackTemplate(pgdata)).toBe(true);
    expect(existsSync(path.join(pgdata, "base", "torn"))).toBe(false);
    expect(readdirSync(path.join(pgdata, "lost+found"))).toEqual(["#12345"]);
    // lost+found and anything else: not a fresh file system, left to PGlite.
    const used = path.join(dir, "mounted-used");
    mkdirSync(path.join(used, "lost+found"), { recursive: true });
    writeFileSync(path.join(used, "notes.txt"), "mine");
    expect(await unpackTemplate(used)).toBe(false);
    expect(readdirSync(used).sort()).toEqual(["lost+found", "notes.txt"]);
  });

  it.skipIf(!straceWorks || process.platform !== "linux")(
    "filling a mount point with lost+found in place is durable: marker, every file and directory, PG_VERSION, then the marker goes, each fsynced",
    () => {
      const pgdata = path.join(dir, "mounted-durable");
      mkdirSync(path.join(pgdata, "lost+found"), { recursive: true, mode: 0o700 });
      const log = path.join(dir, "mounted-durable.strace");
      const result = spawnSync(
        "strace",
        [
          "-f",
          "-y",
          "-e",
          "trace=fsync,fdatasync,unlink,unlinkat,rename,renameat,renameat2",
          "-o",
          log,
          process.execPath,
          ...UNPACK_CHILD,
          pgdata,
        ],
        { cwd: ROOT, encoding: "utf8" },
      );
      expect(result.stdout).toBe("true");
      const lines = readFileSync(log, "utf8").split("\n");
      const fsynced = (line: string) => [...line.matchAll(/f(?:data)?sync\(\d+<([^>]*)>/g)].map((m) => m[1] as string);
      const firstSync = (file: string) => lines.findIndex((line) => fsynced(line).includes(file));
      const lastSync = (file: string) => lines.findLastIndex((line) => fsynced(line).includes(file));
      const marker = path.join(pgdata, ".picloud-unpacking");
      const markerSynced = firstSync(marker);
      const pgVersionSynced = firstSync(path.join(pgdata, "PG_VERSION"));
      const markerRemoved = lines.findIndex((line) => /unlink(at)?\(.*\.picloud-unpacking/.test(line));
      expect(markerSynced).toBeGreaterThanOrEqual(0);
      expect(pgVersionSynced).toBeGreaterThan(markerSynced);
      expect(markerRemoved).toBeGreaterThan(pgVersionSynced);
      // The removal of the marker is made durable too: the directory is fsynced after it.
      expect(lastSync(pgdata)).toBeGreaterThan(markerRemoved);
      // Every file and directory of the database, in place, fsynced while the marker still said "half-filled".
      const files = tree(pgdata).filter((name) => name !== "lost+found" && !name.startsWith("lost+found/"));
      expect(files.length).toBeGreaterThan(100);
      const late = files.filter((name) => {
        const at = firstSync(name === "" ? pgdata : path.join(pgdata, name));
        return at < 0 || at > markerRemoved;
      });
      expect(late).toEqual([]);
      // Never renamed over, and lost+found never touched.
      expect(lines.filter((line) => /rename(at2?)?\(.*mounted-durable"/.test(line))).toEqual([]);
      expect(lines.filter((line) => line.includes("lost+found"))).toEqual([]);
    },
  );

  it("a directory left half-filled in place is never taken for a database: it is cleared and filled again", async () => {
    const pgdata = path.join(dir, "half-filled");
    mkdirSync(path.join(pgdata, "base"), { recursive: true });
    writeFileSync(path.join(pgdata, ".picloud-unpacking"), "");
    writeFileSync(path.join(pgdata, "PG_VERSION"), "17\n");
    writeFileSync(path.join(pgdata, "base", "torn"), "half a page");
    expect(isFreshLocation(pgdata)).toBe(true);
    expect(await unpackTemplate(pgdata)).toBe(true);
    expect(existsSync(path.join(pgdata, "base", "torn"))).toBe(false);
    expect(existsSync(path.join(pgdata, ".picloud-unpacking"))).toBe(false);
    expect(isFreshLocation(pgdata)).toBe(false);
    await expectOpens(pgdata);
  });

  it("a template that does not unpack whole leaves neither a data directory nor a staging directory", async () => {
    const parent = path.join(dir, "truncated");
    mkdirSync(parent);
    const truncated = path.join(dir, "truncated.tar.gz");
    writeFileSync(truncated, readFileSync(TEMPLATE).subarray(0, 1 << 20));
    await expect(unpackTemplate(path.join(parent, "pgdata"), truncated)).rejects.toThrow();
    expect(readdirSync(parent)).toEqual([]);
  });
});
