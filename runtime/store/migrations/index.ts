// Ordered schema migrations, applied once each. Kept as TypeScript strings so bundlers carry them along.
import { initial } from "./001-initial.js";
import { events } from "./002-events.js";
import { invocationStats } from "./003-invocation-stats.js";
import { secretsEgress } from "./004-secrets-egress.js";
import { invocationDetails } from "./005-invocation-details.js";
import { scriptSettings } from "./007-script-settings.js";
import { nodes } from "./009-nodes.js";
import { kvVersion } from "./010-kv-version.js";
import { egressMode } from "./011-egress-mode.js";
import { kvWritersLock } from "./012-kv-writers-lock.js";
import { kvSetMany } from "./013-kv-set-many.js";
import { nodeProcess } from "./014-node-process.js";
import { kvOwnerLease } from "./015-kv-owner-lease.js";
import { kvOwnerWrites } from "./016-kv-owner-writes.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  initial,
  events,
  invocationStats,
  secretsEgress,
  invocationDetails,
  scriptSettings,
  nodes,
  kvVersion,
  egressMode,
  kvWritersLock,
  kvSetMany,
  nodeProcess,
  kvOwnerLease,
  kvOwnerWrites,
];
