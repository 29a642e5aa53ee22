// PGlite has no lock of its own: two processes could open one data directory and corrupt it.
// A lock file holding our pid refuses a second opener; a lock left by a dead process is taken over.
import fs from "node:fs";
import path from "node:path";
import { PiCloudError } from "../shared/errors.js";

export interface DataDirLock {
  release(): void;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "picloud.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number.parseInt(fs.readFileSync(file, "utf8"), 10);
      if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
        throw new PiCloudError(
          "DATA_DIR_LOCKED",
          `The data directory ${dataDir} is in use by another PiCloud process (pid ${holder}). Stop it, or pick another --data-dir.`,
        );
      }
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new PiCloudError("DATA_DIR_LOCKED", `Could not lock the data directory ${dataDir}.`);
}
