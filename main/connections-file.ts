// connections.json: the remote connections kept by the main process. A file that cannot be read
// is an error the user sees, never an empty list (the next save would then wipe every connection),
// and every write replaces the file atomically (write a temp file, fsync, rename).
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";

export class ConnectionsFileError extends Error {}

export function readConnectionsFile<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new ConnectionsFileError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConnectionsFileError(
      `${file} is not valid JSON (${(error as Error).message}). It was left as it is: fix or remove it, then restart PiCloud.`,
    );
  }
  if (!Array.isArray(parsed)) throw new ConnectionsFileError(`${file} must hold a JSON array of connections. It was left as it is.`);
  return parsed as T[];
}

export function writeConnectionsFile(file: string, connections: readonly unknown[]): void {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(connections, null, 2));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
