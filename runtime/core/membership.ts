// This process in the nodes table: registered once it listens, a heartbeat on a cheap unref'd
// timer (one UPDATE; it also re-reads the database clock), "draining" on SIGTERM, removed on exit.
import os from "node:os";
import type { PiCloudError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import type { NodeLoad, NodeRoleName, NodeStore } from "../store/nodes.js";
import type { Bus } from "./bus.js";
import type { DbClock } from "./db-clock.js";

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
}

/** How long after a silent name holder's expiry (on the database's clock) the name is asked for again. */
const NAME_RECHECK_MARGIN_MS = 100;

/** The default node name: the host name plus the port, unique per machine. */
export function defaultNodeName(url: string): string {
  return `${os.hostname()}-${new URL(url).port || "80"}`;
}

export class Membership {
  private timer: NodeJS.Timeout | undefined;
  private status: "up" | "draining" = "up";
  private registered = false;
  private address: { name: string; url: string } | undefined;

  constructor(private readonly options: MembershipOptions) {}

  get name(): string | undefined {
    return this.address?.name;
  }

  async start(name: string, url: string): Promise<void> {
    this.address = { name, url };
    await this.register();
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.timer.unref();
  }

  private async register(): Promise<void> {
    const { store, id, role, version, heartbeatMs } = this.options;
    if (!this.address) return;
    const address = this.address;
    const sentAt = Date.now();
    const dbNow = await store.register({ id, ...address, role, version, heartbeatMs }).catch(async (error: unknown) => {
      if ((error as PiCloudError).code !== "NODE_NAME_TAKEN") throw error;
      await this.waitForName(address.name, error);
      return store.register({ id, ...address, role, version, heartbeatMs });
    });
    this.options.clock?.observe(dbNow, sentAt, Date.now());
    this.registered = true;
    await this.options.bus.publish("nodes.changed", { id, status: this.status });
  }

  /**
   * The name is held by a row that looks live. A process restarted at once after a crash (same host and
   * port, so the same default name) finds its predecessor's: it waits for that row to miss its heartbeats,
   * unless it beats again (a running process has the name: `refused` is thrown).
   */
  private async waitForName(name: string, refused: unknown): Promise<void> {
    const { store, id, logger } = this.options;
    let holder = await store.liveNamed(name, id);
    while (holder) {
      logger.warn(
        { name, waitMs: holder.expiresInMs },
        `a node named '${name}' is registered but silent (a crashed predecessor?): waiting for its registration to expire`,
      );
      await new Promise((resolve) => setTimeout(resolve, holder ? holder.expiresInMs + NAME_RECHECK_MARGIN_MS : 0));
      const now = await store.liveNamed(name, id);
      if (now && now.lastSeen !== holder.lastSeen) throw refused;
      holder = now;
    }
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
      logger.debug({ err: error }, "heartbeat failed (database away?)");
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.registered) return;
    this.registered = false;
    await this.options.store.deregister(this.options.id).catch(() => {});
    await this.options.bus.publish("nodes.changed", { id: this.options.id, status: "left" });
  }
}
