// Runs sandboxes in worker threads so both cores serve requests and a script burning its CPU budget
// stalls only the thread it runs on. A worker that dies or stops answering is replaced; its
// in-flight invocations fail with ENGINE_FAULT and nothing else is affected.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PiCloudError, coerceError } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import type { InvokeOutcome, InvokeRequest } from "../shared/wire.js";
import type { Executor, SdkHost } from "./executor.js";
import { lazyModulesForSandbox, preludeForSandbox } from "./guest-prelude.js";
import { MessageBatcher } from "./message-batcher.js";
import type { FromWorker, ToWorker, WorkerSettings } from "./protocol.js";

/** Extra time a worker gets past an invocation's wall limit before it is presumed hung. */
const WATCHDOG_GRACE_MS = 5_000;

interface InFlight {
  readonly request: InvokeRequest;
  readonly sdk: SdkHost;
  readonly started: number;
  readonly resolve: (outcome: InvokeOutcome) => void;
  readonly watchdog: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  outbox: MessageBatcher<ToWorker>;
  readonly inFlight: Map<number, InFlight>;
  /** Version keys whose source this worker has been sent. */
  readonly sent: Set<string>;
  closing: boolean;
}

function workerUrl(): URL {
  const compiled = new URL("./worker.js", import.meta.url);
  return existsSync(fileURLToPath(compiled)) ? compiled : new URL("./worker-entry.mjs", import.meta.url);
}

export interface WorkerPoolOptions extends Omit<WorkerSettings, "prelude" | "lazyModules"> {
  readonly workers: number;
  readonly logger: Logger;
}

export class WorkerPool implements Executor {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(private readonly options: WorkerPoolOptions) {}

  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    await Promise.all(Array.from({ length: options.workers }, () => pool.spawn()));
    return pool;
  }

  private spawn(existing?: Slot): Promise<void> {
    const settings: WorkerSettings = {
      instanceMaxUses: this.options.instanceMaxUses,
      instanceMaxAgeMs: this.options.instanceMaxAgeMs,
      prelude: preludeForSandbox(),
      lazyModules: lazyModulesForSandbox(),
    };
    const worker = new Worker(workerUrl(), { workerData: settings });
    const outbox = new MessageBatcher<ToWorker>((batch) => worker.postMessage(batch));
    const slot: Slot = existing ?? { worker, outbox, inFlight: new Map(), sent: new Set(), closing: false };
    slot.worker = worker;
    slot.outbox = outbox;
    slot.sent.clear();
    if (!existing) this.slots.push(slot);
    return new Promise((resolve, reject) => {
      worker.on("message", (batch: FromWorker[]) => {
        for (const message of batch) {
          if (message.t === "ready") resolve();
          else this.onMessage(slot, message);
        }
      });
      worker.on("error", (error) => {
        this.options.logger.error({ err: error }, "executor worker failed");
        reject(error);
      });
      worker.on("exit", (code) => {
        if (slot.worker !== worker) return;
        this.failAll(slot, `The executor worker exited (code ${code}).`);
        if (!this.closed && !slot.closing) {
          this.options.logger.warn({ code }, "executor worker exited; starting a replacement");
          void this.spawn(slot).catch((error) => this.options.logger.error({ err: error }, "could not restart executor worker"));
        }
      });
    });
  }

  private failAll(slot: Slot, message: string): void {
    for (const [id, flight] of slot.inFlight) {
      clearTimeout(flight.watchdog);
      slot.inFlight.delete(id);
      flight.resolve({
        ok: false,
        error: { code: "ENGINE_FAULT", message },
        logs: [],
        durationMs: performance.now() - flight.started,
      });
    }
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    const flight = message.t === "ready" ? undefined : slot.inFlight.get(message.id);
    if (!flight) return;
    switch (message.t) {
      case "done": {
        clearTimeout(flight.watchdog);
        slot.inFlight.delete(message.id);
        const { outcome } = message;
        const durationMs = performance.now() - flight.started;
        flight.resolve(
          outcome.ok
            ? { ok: true, resultJson: outcome.resultJson, response: outcome.response, logs: outcome.logs, durationMs }
            : { ok: false, error: outcome.error ?? { code: "INTERNAL", message: "Unknown failure." }, logs: outcome.logs, durationMs },
        );
        break;
      }
      case "need-source":
        this.post(slot, message.id, flight.request, true);
        break;
      case "call":
        flight.sdk(message).then(
          (json) => this.send(slot, { t: "call-result", callId: message.callId, ok: true, json }),
          (error: unknown) => {
            const coded = coerceError(error);
            const text = coded.code === "INTERNAL" ? `The ${message.binding} call failed.` : coded.message;
            if (coded.code === "INTERNAL") this.options.logger.error({ err: error, binding: message.binding }, "binding call failed");
            this.send(slot, { t: "call-result", callId: message.callId, ok: false, code: coded.code, message: text });
          },
        );
        break;
    }
  }

  private send(slot: Slot, message: ToWorker): void {
    slot.outbox.send(message);
  }

  private post(slot: Slot, id: number, request: InvokeRequest, withSource: boolean): void {
    const key = `${request.app}/${request.script}@${request.version}`;
    const includeSource = withSource || !slot.sent.has(key);
    if (includeSource) slot.sent.add(key);
    this.send(slot, {
      t: "invoke",
      id,
      app: request.app,
      script: request.script,
      version: request.version,
      source: includeSource ? request.source : undefined,
      contextJson: JSON.stringify(request.context),
      limits: request.limits,
      strict: request.strict,
    });
  }

  /** Least busy worker first: a worker stuck in a CPU-heavy script gets no new work while another is free. */
  private pick(): Slot {
    let best = this.slots[0] as Slot;
    for (const slot of this.slots) if (slot.inFlight.size < best.inFlight.size) best = slot;
    return best;
  }

  invoke(request: InvokeRequest, sdk: SdkHost): Promise<InvokeOutcome> {
    if (this.closed) return Promise.reject(new PiCloudError("EXECUTOR_UNAVAILABLE"));
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const watchdog = setTimeout(() => {
        this.options.logger.error({ app: request.app, script: request.script }, "executor worker hung; terminating it");
        void slot.worker.terminate();
      }, request.limits.wallMs + WATCHDOG_GRACE_MS);
      slot.inFlight.set(id, { request, sdk, started: performance.now(), resolve, watchdog });
      this.post(slot, id, request, false);
    });
  }

  forgetApp(app: string): void {
    for (const slot of this.slots) this.send(slot, { t: "forget", app });
  }

  inFlightCount(): number {
    return this.slots.reduce((n, slot) => n + slot.inFlight.size, 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.closing = true;
        await slot.worker.terminate();
        this.failAll(slot, "The executor stopped.");
      }),
    );
  }
}
