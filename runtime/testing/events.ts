// Events as another process queues them, for dispatcher tests: pending, due now, its NOTIFY not heard
// by the dispatcher under test (the test wakes it, or inserts it through EventStore itself).
import type { NewEvent } from "../store/events.js";

export const queuedEvent = (app: string, script: string): NewEvent => ({
  app,
  triggerId: null,
  script,
  kind: "kv",
  payloadJson: '{"type":"kv"}',
  chainDepth: 0,
  runAt: Date.now(),
  maxAttempts: 3,
  backoffMs: 1_000,
  backoffMaxMs: 1_000,
});
