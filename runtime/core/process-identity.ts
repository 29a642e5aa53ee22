// Which process a node row belongs to, precisely enough to prove it dead from another process: the
// pid alone means nothing outside its pid namespace, and the host name is shared by machines (every
// Raspberry Pi OS install is 'raspberrypi') and by containers with host networking, each numbering
// its pids from 1. So on Linux a process is named by the running kernel (its boot id: random per
// boot, never shared by two machines nor by one machine before and after a reboot) and its pid
// namespace (an inode no other live namespace of that kernel has), and the host name is only shown.
//
// Not /etc/machine-id: it is copied with a cloned SD card and baked into container images, while
// the root pid namespace has the same inode on every Linux machine, so machine id plus namespace
// would make two cloned Pis one host. For the same reason a row from an earlier boot of this machine
// is not taken for a dead predecessor (nothing tells it apart from another machine's): it is waited
// out, which a reboot outlasts anyway at the default heartbeat.
import { readFileSync, readlinkSync } from "node:fs";
import os from "node:os";

export interface ProcessIdentity {
  /** The machine's host name. */
  readonly host: string;
  readonly pid: number;
  /** The running kernel's boot id (Linux). */
  readonly bootId?: string;
  /** The inode of the process's pid namespace (Linux): containers on one kernel differ in it. */
  readonly pidNamespace?: string;
}

const readOrUndefined = (read: () => string): string | undefined => {
  try {
    return read().trim() || undefined;
  } catch {
    return undefined;
  }
};

/**
 * This process. Without /proc (macOS, Windows) only the host name: there two machines with one host
 * name look like one, and a row of the other whose pid does not run here is taken for a dead
 * predecessor's, as before boot ids were recorded.
 */
export function thisProcess(): ProcessIdentity {
  const bootId = readOrUndefined(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8"));
  const pidNamespace = readOrUndefined(() => /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "");
  return { host: os.hostname(), pid: process.pid, ...(bootId && { bootId }), ...(pidNamespace && { pidNamespace }) };
}

/**
 * What the nodes table's `host` column records: the host name, then the boot id and pid namespace
 * where known (`raspberrypi boot=1b6f… pidns=4026531836`). Two rows are in one pid namespace when
 * these are equal. A row written by a release before boot ids (a bare host name) never equals a
 * Linux process's, so it is waited out.
 */
export function recordedHost(identity: ProcessIdentity): string {
  const parts = [identity.host];
  if (identity.bootId) parts.push(`boot=${identity.bootId}`);
  if (identity.pidNamespace) parts.push(`pidns=${identity.pidNamespace}`);
  return parts.join(" ");
}
