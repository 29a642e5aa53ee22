// This process in the nodes table: registered once it listens, a heartbeat on a cheap unref'd
// timer (one UPDATE; it also re-reads the database clock), "draining" on SIGTERM, removed on exit.
// A name is unique among running processes. A process restarted at once after a crash finds its
// predecessor's row still looking live: it takes that row over when the row is provably dead (the
// embedded database is this process's alone; or same kernel boot and pid namespace, and that pid
// no longer runs: process-identity.ts), and
// otherwise waits for the row to expire, refusing the name only if its holder beats again. Rows of
// other names that are provably dead the same way are marked down at start, so a crashed process does
// not show `up` until its heartbeats expire.
import os from "node:os";
import { PiCloudError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import type { NameHolder, NodeLoad, NodeRoleName, NodeStore } from "../store/nodes.js";
import type { Bus } from "../store/bus.js";
import type { DbClock } from "../store/db-clock.js";
import { type ProcessIdentity, recordedHost, thisProcess } from "./process-identity.js";

export interface MembershipOptions {
  readonly store: NodeStore;
  readonly bus: Bus;
  readonly id: string;
  readonly role: NodeRoleName;
  readonly version: string;
  readonly heartbeatMs: number;
  readonly logger: Logger;
  /** The current load (nodes); a manager reports none. */
  readonly load: () => Omit<NodeLoad, "rssBytes">;
  readonly clock?: DbClock;
  /** Who registers: this machine and process unless a test says otherwise. */
  readonly process?: ProcessIdentity;
  /** The database is this process's alone (embedded PGlite, under its data-directory lock): every other row is a dead process's. */
  readonly exclusiveDatabase?: boolean;
}

/** Slack on top of a holder's heartbeat period before looking whether it beat again. */
const BEAT_SLACK_MS = 500;

/** Whether process `pid` runs on this machine (EPERM: it runs, as another user). */
function processRuns(pid: number): boolean {
  if (pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const describeHolder = (holder: NameHolder) => (holder.host ? `pid ${holder.pid} on ${holder.host}` : "another process");

/** The default node name: the host name plus the port, unique per machine. */
export function defaultNodeName(url: string): string {
  return `${os.hostname()}-${new URL(url).port || "80"}`;
}

export class Membership {
  private timer: NodeJS.Timeout | undefined;
  private status: "up" | "draining" = "up";
  private registered = false;
  private address: { name: string; url: string } | undefined;
  private stopped = false;
  /** Ends a wait for another process's row to expire (stop). */
  private wake: (() => void) | undefined;

  /** Who registers, as the nodes table records it (host: recordedHost). */
  private readonly process: { readonly host: string; readonly pid: number };

  constructor(private readonly options: MembershipOptions) {
    const identity = options.process ?? thisProcess();
    this.process = { host: recordedHost(identity), pid: identity.pid };
  }

  get name(): string | undefined {
    return this.address?.name;
  }

  async start(name: string, url: string): Promise<void> {
    this.address = { name, url };
    await this.markDeadDown();
    await this.register(true);
    if (this.stopped) return;
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.timer.unref();
  }

  /**
   * Registers this process under its name. At start (`settle`) a row holding the name is taken over
   * when it is a dead predecessor's, else waited on until it expires; NODE_NAME_TAKEN when it beats
   * meanwhile. Registering again later (our row was pruned) takes over nothing: two processes that
   * each looked like the other's predecessor would take the name from each other forever.
   */
  private async register(settle = false): Promise<void> {
    const { store, id, role, version, heartbeatMs, logger } = this.options;
    if (!this.address) return;
    const self = { id, ...this.address, role, version, heartbeatMs, ...this.process };
    let takeOver: string | undefined;
    let waitingOn: NameHolder | undefined;
    for (;;) {
      const sentAt = Date.now();
      const dbNow = await store.register(self, takeOver);
      if (dbNow !== undefined) {
        this.options.clock?.observe(dbNow, sentAt, Date.now());
        break;
      }
      const holder = await store.liveNamed(self.name, id);
      if (!holder) continue; // it left or expired meanwhile
      const beatAgain = waitingOn && (holder.id !== waitingOn.id || holder.lastSeen !== waitingOn.lastSeen);
      if (!settle || beatAgain) {
        throw new PiCloudError(
          "NODE_NAME_TAKEN",
          `A running node is already named '${self.name}' (${describeHolder(holder)}): pick another --name.`,
        );
      }
      if (this.deadPredecessor(holder)) {
        logger.info({ holder }, `taking over the node name '${self.name}' from a process that is gone (${describeHolder(holder)})`);
        takeOver = holder.id;
        continue;
      }
      if (!waitingOn) {
        logger.warn(
          { holder },
          `the node name '${self.name}' is held by ${describeHolder(holder)}, which may have crashed: waiting up to ${holder.expiresInMs} ms for its heartbeat to expire`,
        );
      }
      waitingOn = holder;
      // A live holder beats within its period: look again then, or at its expiry if sooner.
      await this.sleep(Math.min(holder.expiresInMs + 50, holder.heartbeatMs + BEAT_SLACK_MS));
      if (this.stopped) return;
    }
    this.registered = true;
    await this.options.bus.publish("nodes.changed", { id, status: this.status });
  }

  /**
   * At start, marks down every other row that looks live but is provably a dead process's (a crash leaves
   * its row behind, which would show `up` until it missed its heartbeats): on the embedded database, all
   * of them; on Postgres, those of our kernel boot and pid namespace whose pid no longer runs. Best effort: a failure only
   * leaves them to expire.
   */
  private async markDeadDown(): Promise<void> {
    const { store, id, bus, logger } = this.options;
    try {
      const dead = (await store.othersLooksLive(id)).filter((row) => this.deadPredecessor(row));
      if (dead.length === 0) return;
      await store.markDown(dead.map((row) => row.id));
      logger.info({ nodes: dead }, `marked down ${dead.length} node(s) whose process is gone: ${dead.map((row) => row.name).join(", ")}`);
      for (const row of dead) await bus.publish("nodes.changed", { id: row.id, status: "down" });
    } catch (error) {
      logger.warn({ err: error }, "could not mark crashed nodes down; they count as down once their heartbeats expire");
    }
  }

  /**
   * A row no live process can own: any, on our own database; else one of our pid namespace (same
   * recorded host: host name, boot id, namespace inode) whose process is gone, or that has our pid (we
   * hold it, so the row's process exited: a container's pid 1 restarted in a namespace that got the
   * inode back). Where the kernel says nothing more (no /proc), the host name stands for the namespace.
   */
  private deadPredecessor(holder: { readonly host: string; readonly pid: number }): boolean {
    if (this.options.exclusiveDatabase) return true;
    const self = this.process;
    return holder.host === self.host && (holder.pid === self.pid || !processRuns(holder.pid));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Announces draining at once (the manager's view and other readers see it on their next read). */
  async drain(): Promise<void> {
    this.status = "draining";
    await this.beat();
    await this.options.bus.publish("nodes.changed", { id: this.options.id, status: "draining" });
  }

  private async beat(): Promise<void> {
    if (!this.registered) return;
    const { store, id, clock, logger } = this.options;
    try {
      const load: NodeLoad = { ...this.options.load(), rssBytes: process.memoryUsage.rss() };
      const sentAt = Date.now();
      const dbNow = await store.heartbeat(id, this.status, load);
      if (dbNow !== undefined) clock?.observe(dbNow, sentAt, Date.now());
      else {
        // Our row was pruned while we were away (a long outage): register again.
        logger.warn("this node's registration was gone; registering again");
        await this.register();
      }
    } catch (error) {
      if (error instanceof PiCloudError && error.code === "NODE_NAME_TAKEN") logger.error({ err: error }, "could not register again");
      else logger.debug({ err: error }, "heartbeat failed (database away?)");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.registered) return;
    this.registered = false;
    await this.options.store.deregister(this.options.id).catch(() => {});
    await this.options.bus.publish("nodes.changed", { id: this.options.id, status: "left" });
  }
}
