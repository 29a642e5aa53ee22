// Executor worker thread: keeps warm sandbox instances per script version and runs invocations.
// Everything here is disposable: the pool replaces a worker that dies, losing only warm state.
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import type { BindingCall } from "../bindings/channel.js";
import { EngineModule, engineWasmPath } from "./engine-module.js";
import { engineLayout } from "./engine-snapshot.js";
import { StrictTemplate } from "./strict-template.js";
import { type Batch, MessageBatcher } from "./message-batcher.js";
import { classifyGuestError, engineFault, type GuestError, type RawOutcome } from "./guest-errors.js";
import type { Limits } from "../shared/limits.js";
import {
  type FromWorker,
  PACKED_INVOKE_FIELDS,
  STRICT_TEMPLATE_DEFAULTS,
  type StrictTemplatePolicy,
  type TemplateDropReason,
  type ToWorker,
  type WorkerSettings,
  type WorkerVersion,
} from "./protocol.js";
import { type BusySpan, SandboxInstance } from "./sandbox-instance.js";
import { BusyMarker } from "./busy-marker.js";
import type { WorkerKv } from "./worker-kv.js";

const port = parentPort;
if (!port) throw new Error("worker.ts must run in a worker thread");
const settings = workerData as WorkerSettings;

const MAX_IDLE_PER_VERSION = 32;
const MAX_SOURCES = 2_000;
/** Runs expected to take at least this long (ms) flush the pending results first. */
const FLUSH_BEFORE_MS = 2;

const modules = new Map<string, EngineModule>();
const creating = new Map<string, Promise<EngineModule>>();
const idle = new Map<string, SandboxInstance[]>();
/** The versions this worker was sent, by key, least recently sent first. */
const versions = new Map<string, WorkerVersion>();
const hostCalls = new Map<number, { resolve: (json: string) => void; reject: (error: { code: string; message: string }) => void }>();
let nextCallId = 1;
/** Sandbox instances this worker has built: the measure of churn (each costs a prelude compile). */
let instancesCreated = 0;
const marker = new BusyMarker(settings.busyBuffer);
let sweepTimer: NodeJS.Timeout | undefined;

/**
 * Per app and the limits fixed when it is built (memory, stack): a strict-mode template
 * (strict-template.ts: an engine module of its own whose memory is restored before each strict run),
 * and the lazy modules its strict runs loaded that the snapshot lacks (loaded into it before its next run).
 */
interface TemplateSlot {
  readonly app: string;
  template: StrictTemplate | undefined;
  building: boolean;
  /** Settles when the build in progress ends (built or failed). */
  built: Promise<void> | undefined;
  failures: number;
  readonly memoryMiB: number;
  readonly stackKiB: number;
  readonly wanted: Set<string>;
  lastUsed: number;
  /** The template's module size when built: a run that grew it past this + growthBytes drops it. */
  builtBytes: number;
  /** When a run last found the template busy and built an instance in the app's ordinary module. */
  busyAt: number;
}
/** By templateKey, least recently used first. */
const templates = new Map<string, TemplateSlot>();
/** Templates built and dropped since this worker started (reported with its stats, for /metrics). */
let templatesBuilt = 0;
const templatesDropped: Record<TemplateDropReason, number> = { faulted: 0, grown: 0, evicted: 0, idle: 0, app_changed: 0 };
const policy: StrictTemplatePolicy = { ...STRICT_TEMPLATE_DEFAULTS, ...settings.strictTemplates };
/** Strict runs per app in the current window (least recently seen first, at most MAX_SOURCES apps). */
const strictRuns = new Map<string, { n: number; since: number }>();
/** How long after a strict run found its template busy the app's ordinary module is kept for the next. */
const ORDINARY_KEEP_MS = 10_000;
/** Builds that failed before an app's strict runs stop trying (they build an instance each, as before). */
const TEMPLATE_MAX_FAILURES = 3;
const layout = settings.strictSnapshots === false ? undefined : engineLayout(engineWasmPath());

/** Serves kv calls here instead of on the main thread, once the pool turned it on (Postgres only). */
let kv: WorkerKv | undefined;

const outbox = new MessageBatcher<FromWorker>((batch) => port.postMessage(batch));
const send = (message: FromWorker) => outbox.send(message);

/** The app's module when it is ready (the common case: no await, so a run can finish in this turn). */
function readyEngine(app: string, memoryMiB: number): EngineModule | undefined {
  const current = modules.get(app);
  return current && current.memoryMiB === memoryMiB && !creating.has(app) ? current : undefined;
}

async function engineFor(app: string, memoryMiB: number): Promise<EngineModule> {
  const current = modules.get(app);
  if (current && current.memoryMiB === memoryMiB) return current;
  if (current) retire(current);
  let pending = creating.get(app);
  if (!pending) {
    pending = EngineModule.create(memoryMiB).finally(() => creating.delete(app));
    creating.set(app, pending);
    modules.set(app, await pending);
  }
  return pending;
}

/** Stops handing out the module; its idle instances go now, busy ones when they finish. */
function retire(engine: EngineModule): void {
  engine.retired = true;
  for (const [app, candidate] of modules) if (candidate === engine) modules.delete(app);
  for (const [key, list] of idle) {
    const kept = list.filter((instance) => {
      if (instance.engine !== engine) return true;
      instance.dispose();
      return false;
    });
    if (kept.length === 0) idle.delete(key);
    else idle.set(key, kept);
  }
}

function takeIdle(key: string, engine: EngineModule, limits: Limits): SandboxInstance | undefined {
  const list = idle.get(key);
  while (list && list.length > 0) {
    const instance = list.pop() as SandboxInstance;
    // The script's settings may have changed its stack limit since the instance was built.
    if (instance.engine === engine && instance.builtFor(limits) && !isWornOut(instance)) return instance;
    discard(instance);
  }
  return undefined;
}

function isWornOut(instance: SandboxInstance): boolean {
  return instance.uses >= settings.instanceMaxUses || performance.now() - instance.createdAt > settings.instanceMaxAgeMs;
}

function discard(instance: SandboxInstance): void {
  // Freeing can abort the engine (a QuickJS assertion after an interrupt): nothing else may run in it then.
  if (!instance.dispose() && !instance.engine.retired) retire(instance.engine);
}

function release(key: string, instance: SandboxInstance, reusable: boolean): void {
  if (!reusable || instance.engine.retired || isWornOut(instance)) {
    discard(instance);
    return;
  }
  let list = idle.get(key);
  if (!list) {
    list = [];
    idle.set(key, list);
  }
  if (list.length >= MAX_IDLE_PER_VERSION) {
    discard(instance);
    return;
  }
  list.push(instance);
  scheduleSweep();
}

/** Frees instances past their age while the worker is otherwise idle; armed only while any exist. */
function scheduleSweep(): void {
  if (sweepTimer) return;
  sweepTimer = setTimeout(() => {
    sweepTimer = undefined;
    for (const [key, list] of idle) {
      const kept = list.filter((instance) => {
        if (!isWornOut(instance)) return true;
        discard(instance);
        return false;
      });
      if (kept.length === 0) idle.delete(key);
      else idle.set(key, kept);
    }
    for (const [app, engine] of modules) if (engine.liveInstances === 0) modules.delete(app);
    const now = performance.now();
    for (const [key, slot] of templates)
      if (!slot.template?.busy && !slot.building && now - slot.lastUsed > settings.instanceMaxAgeMs) forgetSlot(key, slot, "idle");
    for (const [app, seen] of strictRuns) if (now - seen.since > policy.windowMs) strictRuns.delete(app);
    if (idle.size > 0 || templates.size > 0) scheduleSweep();
  }, settings.instanceMaxAgeMs);
  sweepTimer.unref();
}

/** Binding calls of one invocation so far (reported with its outcome). */
interface CallCount {
  n: number;
}

/** The invocation's app comes from its version (sent by the pool), never from the guest. */
function hostCallFor(id: number, count: CallCount, app: string, chainDepth: number) {
  return (call: BindingCall): Promise<string> => {
    if (kv && call.binding === "kv") {
      count.n++;
      return kv.call(app, chainDepth, call.op, call.args).catch((error: { code: string; message: string; internal?: unknown }) => {
        if (error.internal !== undefined) {
          const cause = error.internal instanceof Error ? error.internal : new Error(String(error.internal));
          send({ t: "kv-failed", message: cause.message, ...(cause.stack !== undefined && { stack: cause.stack }) });
        }
        throw { code: error.code, message: error.message };
      });
    }
    return new Promise((resolve, reject) => {
      count.n++;
      const callId = nextCallId++;
      hostCalls.set(callId, { resolve, reject });
      send({ t: "call", id, callId, binding: call.binding, op: call.op, args: call.args });
    });
  };
}

type InvokeMessage = Extract<ToWorker, { t: "invoke" }>;

function invoke(message: InvokeMessage): void {
  const { key } = message;
  if (message.validate && message.version) {
    if (message.expectedMs >= FLUSH_BEFORE_MS) outbox.flushNow();
    runCheck(message, message.version, performance.now());
    return;
  }
  const version = message.version ?? versions.get(key);
  if (version === undefined) {
    send({ t: "need-source", id: message.id });
    return;
  }
  if (message.version !== undefined) {
    versions.delete(key);
    versions.set(key, version);
    if (versions.size > MAX_SOURCES) versions.delete(versions.keys().next().value as string);
  }
  // A run expected to hold the thread for a while first sends the results of the runs before it
  // in this batch, so a quick answer never waits behind a slow neighbour.
  if (message.expectedMs >= FLUSH_BEFORE_MS) outbox.flushNow();
  const startedAt = performance.now();
  if (message.strict === true) runStrict(message, version, startedAt, false);
  else runOnEngine(message, version, startedAt);
}

/**
 * A strict run: from the template if there is one free; while one is being built, after the build
 * (a few ms: a worker kept busy with runs that build instances would otherwise not get to finish the
 * build's asynchronous WASM instantiation for as long as the runs keep coming); else in an instance
 * built for it, as without templates.
 */
function runStrict(message: InvokeMessage, version: WorkerVersion, startedAt: number, waited: boolean): void {
  const found = templateFor(version.app, version.limits, !waited);
  if (found?.template) runOnTemplate(found.slot, found.template, message, version, startedAt);
  else if (found?.slot.building && found.slot.built && !waited) found.slot.built.then(() => runStrict(message, version, startedAt, true));
  else runOnEngine(message, version, startedAt);
}

function runOnEngine(message: InvokeMessage, version: WorkerVersion, startedAt: number): void {
  const engine = readyEngine(version.app, version.limits.memoryMiB);
  if (engine) {
    runOn(engine, message, version, startedAt);
    return;
  }
  engineFor(version.app, version.limits.memoryMiB).then(
    (created) => runOn(created, message, version, startedAt),
    (error: unknown) => finish(message, undefined, engineFault(error), startedAt, 0, 0),
  );
}

/**
 * A deploy's check: a fresh instance in an engine module of its own, never stored (not in `modules`),
 * dropped with the instance when the check ends. WASM memory never shrinks, and only dropping a module
 * frees it: a check kept in the app's module would keep what its top level allocated for as long as the
 * module lives (for good on a worker with no idle instances, whose sweep never runs), and would share
 * the app's memory cap with its runs.
 */
function runCheck(message: InvokeMessage, version: WorkerVersion, startedAt: number): void {
  EngineModule.create(version.limits.memoryMiB).then(
    // The check runs to its end in this turn (a module's load serves no host call): nothing holds the module after.
    (engine) => runOn(engine, message, version, startedAt),
    (error: unknown) => finish(message, undefined, engineFault(error), startedAt, 0, 0),
  );
}

/** A template is built for what is fixed in it: the app's memory limit and the script's stack size. */
function templateKey(app: string, limits: Pick<Limits, "memoryMiB" | "stackKiB">): string {
  return `${app}\n${limits.memoryMiB}\n${limits.stackKiB}`;
}

/** Counts one strict run of the app: true once it has made `afterRuns` of them within the window. */
function repeatUse(app: string, now: number): boolean {
  let seen = strictRuns.get(app);
  if (seen) strictRuns.delete(app);
  if (!seen || now - seen.since > policy.windowMs) seen = { n: 0, since: now };
  strictRuns.set(app, seen);
  if (strictRuns.size > MAX_SOURCES) strictRuns.delete(strictRuns.keys().next().value as string);
  return ++seen.n >= policy.afterRuns;
}

/**
 * Makes room for one more template: false when `max` are kept and none of them has been idle for
 * evictAfterIdleMs (replacing a template in use with another would only trade one build for the next).
 */
function roomForTemplate(now: number): boolean {
  let held = 0;
  let victim: TemplateSlot | undefined;
  for (const slot of templates.values()) {
    if (!slot.template && !slot.building) continue;
    held++;
    if (!victim && slot.template && !slot.template.busy && now - slot.lastUsed >= policy.evictAfterIdleMs) victim = slot;
  }
  if (held < policy.max) return true;
  if (!victim) return false;
  forgetSlot(templateKey(victim.app, victim), victim, "evicted");
  // Its app has to show repeat use again before it gets another.
  strictRuns.delete(victim.app);
  return true;
}

/**
 * The strict-mode template for the app and these limits when it is free; else starts building one if
 * the app has shown repeat use (and there is room), and the run builds an instance as before.
 */
function templateFor(
  app: string,
  limits: Limits,
  count: boolean,
): { slot: TemplateSlot; template: StrictTemplate | undefined } | undefined {
  if (!layout) return undefined;
  const now = performance.now();
  const repeated = count && repeatUse(app, now);
  const key = templateKey(app, limits);
  let slot = templates.get(key);
  if (!slot) {
    if (!repeated || !roomForTemplate(now)) return undefined;
    slot = {
      app,
      template: undefined,
      building: false,
      built: undefined,
      failures: 0,
      memoryMiB: limits.memoryMiB,
      stackKiB: limits.stackKiB,
      wanted: new Set(),
      lastUsed: now,
      builtBytes: 0,
      busyAt: -Infinity,
    };
    scheduleSweep();
  } else templates.delete(key);
  templates.set(key, slot);
  slot.lastUsed = now;
  const template = slot.template;
  if (!template) {
    // A slot whose template was dropped (grown, or failed to extend) asks for room like a new one: it no longer counts.
    if (!slot.building && slot.failures < TEMPLATE_MAX_FAILURES && repeated && roomForTemplate(now)) buildTemplate(key, slot, limits);
    return { slot, template: undefined };
  }
  if (template.busy) {
    slot.busyAt = now;
    return undefined;
  }
  if (slot.wanted.size > 0) {
    try {
      template.extend(slot.wanted);
      slot.wanted.clear();
    } catch {
      dropTemplate(slot, "faulted");
      return undefined;
    }
  }
  return { slot, template };
}

function buildTemplate(key: string, slot: TemplateSlot, limits: Limits): void {
  slot.building = true;
  slot.built = EngineModule.create(limits.memoryMiB).then(
    (engine) => {
      slot.building = false;
      if (templates.get(key) !== slot || !layout) return;
      try {
        slot.template = StrictTemplate.create(engine, layout, limits, settings, slot.wanted);
        templatesBuilt++;
        slot.builtBytes = engine.memoryBytes;
        slot.wanted.clear();
      } catch {
        slot.failures++;
      }
    },
    () => {
      slot.building = false;
      slot.failures++;
    },
  );
}

/**
 * Forgets a template that failed or grew (its module goes with it: nothing in it needs freeing); the next
 * strict run builds another, until TEMPLATE_MAX_FAILURES.
 */
function dropTemplate(slot: TemplateSlot, reason: "faulted" | "grown"): void {
  if (slot.template) {
    for (const module of slot.template.modules) slot.wanted.add(module);
    templatesDropped[reason]++;
  }
  slot.template = undefined;
  slot.failures++;
}

/** Forgets a slot, and with it its template (if built), counted by why. */
function forgetSlot(key: string, slot: TemplateSlot, reason: "evicted" | "idle" | "app_changed"): void {
  templates.delete(key);
  if (slot.template) templatesDropped[reason]++;
}

/** A strict run that loaded lazy modules its template lacks: they go into the snapshot before the next run. */
function learn(slot: TemplateSlot, loaded: ReadonlySet<string>, template: StrictTemplate | undefined): void {
  for (const module of loaded) if (!template?.modules.has(module)) slot.wanted.add(module);
}

/** A strict run from the app's template: restore, load the script, run (see strict-template.ts). */
function runOnTemplate(
  slot: TemplateSlot,
  template: StrictTemplate,
  message: InvokeMessage,
  version: WorkerVersion,
  startedAt: number,
): void {
  const fileName = `${version.script}.js`;
  const busy = spanFor(message.id);
  const calls: CallCount = { n: 0 };
  const loadStart = performance.now();
  let instance: SandboxInstance;
  // The app's ordinary module, once it holds no instance, is not needed by its strict runs any more,
  // unless they keep overlapping (runs awaiting the host): those that find the template busy use it.
  const ordinary = modules.get(version.app);
  if (ordinary && ordinary.liveInstances === 0 && !creating.has(version.app) && loadStart - slot.busyAt > ORDINARY_KEEP_MS)
    modules.delete(version.app);
  template.busy = true;
  busy.enter();
  try {
    instance = template.prepare(fileName, version.source, version.limits);
  } catch (error) {
    template.busy = false;
    // A plain object is what the guest threw while loading; an Error is the engine failing.
    if (error instanceof Error) dropTemplate(slot, "faulted");
    const outcome = error instanceof Error ? engineFault(error) : classifyGuestError(error as GuestError, [], fileName);
    finish(message, undefined, outcome, startedAt, performance.now() - loadStart, 0);
    return;
  } finally {
    busy.leave();
  }
  const loadMs = performance.now() - loadStart;
  const done = (outcome: RawOutcome) => {
    template.busy = false;
    learn(slot, instance.modulesLoaded, template);
    // WASM memory never shrinks: a template a run grew would keep those pages for good. Counted as a
    // failure, so an app whose runs always grow it stops getting templates after a few.
    const grown = template.engine.memoryBytes > slot.builtBytes + policy.growthBytes;
    if (outcome.retireModule || grown) dropTemplate(slot, outcome.retireModule ? "faulted" : "grown");
    finish(message, undefined, outcome, startedAt, loadMs, calls.n);
  };
  try {
    const ran = instance.run(
      message.contextJson,
      version.limits,
      hostCallFor(message.id, calls, version.app, message.chainDepth ?? 0),
      busy,
    );
    if (!(ran instanceof Promise)) {
      done(ran);
      return;
    }
    ran.then(done, (error: unknown) => done(engineFault(error)));
  } catch (error) {
    done(engineFault(error));
  }
}

/** Take, run and release in one turn when the script awaits no host call: the next run reuses the instance. */
function runOn(engine: EngineModule, message: InvokeMessage, version: WorkerVersion, startedAt: number): void {
  const { key } = message;
  const strict = message.strict === true;
  const fileName = `${version.script}.js`;
  const busy = spanFor(message.id);
  let loadMs = 0;
  const validate = message.validate === true;
  let instance = strict || validate ? undefined : takeIdle(key, engine, version.limits);
  const calls: CallCount = { n: 0 };
  try {
    if (!instance) {
      const loadStart = performance.now();
      busy.enter();
      try {
        instance = new SandboxInstance(engine, fileName, version.source, version.limits, settings, !strict && !validate);
        instancesCreated++;
      } finally {
        busy.leave();
        loadMs = performance.now() - loadStart;
      }
    }
    if (validate) {
      // A deploy's check: the module loaded within its limits; what is its default export?
      const judgeStart = performance.now();
      const kind = instance.defaultExportKind(busy);
      discard(instance);
      instance = undefined;
      const ms = loadMs + performance.now() - judgeStart;
      finish(
        message,
        engine,
        { ok: true, resultJson: JSON.stringify(kind), logs: [], discard: true, retireModule: false },
        startedAt,
        ms,
        0,
      );
      return;
    }
    const ran = instance.run(
      message.contextJson,
      version.limits,
      hostCallFor(message.id, calls, version.app, message.chainDepth ?? 0),
      busy,
    );
    const owned = instance;
    const slot = strict ? templates.get(templateKey(version.app, version.limits)) : undefined;
    if (slot) learn(slot, owned.modulesLoaded, slot.template);
    if (!(ran instanceof Promise)) {
      release(key, owned, !strict && !ran.discard);
      finish(message, engine, ran, startedAt, loadMs, calls.n);
      return;
    }
    ran.then(
      (outcome) => {
        release(key, owned, !strict && !outcome.discard);
        finish(message, engine, outcome, startedAt, loadMs, calls.n);
      },
      (error: unknown) => {
        discard(owned);
        finish(message, engine, engineFault(error), startedAt, loadMs, calls.n);
      },
    );
  } catch (error) {
    if (instance) discard(instance);
    // A plain object is what the guest threw while loading; an Error is the engine failing.
    const outcome = error instanceof Error ? engineFault(error) : classifyGuestError(error as GuestError, [], fileName);
    finish(message, engine, outcome, startedAt, loadMs, calls.n);
  }
}

function finish(
  message: InvokeMessage,
  engine: EngineModule | undefined,
  outcome: RawOutcome,
  startedAt: number,
  loadMs: number,
  hostCalls: number,
): void {
  if (outcome.retireModule && engine && !engine.retired) retire(engine);
  const cpuMs = (outcome.cpuMs ?? 0) + loadMs;
  const runMs = performance.now() - startedAt;
  if (outcome.ok && outcome.logs.length === 0 && outcome.response === undefined && !outcome.discard && !outcome.retireModule) {
    // The common outcome, packed (protocol.ts: PACKED_DONE_FIELDS).
    outbox.pack().push(message.id, outcome.resultJson, runMs, cpuMs, loadMs, hostCalls);
    return;
  }
  const reported = cpuMs === outcome.cpuMs ? outcome : { ...outcome, cpuMs };
  send({ t: "done", id: message.id, outcome: reported, runMs, loadMs, hostCalls });
}

function spanFor(id: number): BusySpan {
  return { enter: () => marker.enter(id), leave: () => marker.leave() };
}

function receive(message: ToWorker): void {
  switch (message.t) {
    case "invoke":
      invoke(message);
      break;
    case "stats": {
      const built = [...templates.values()].flatMap((slot) => (slot.template ? [slot.template] : []));
      const templateEngineBytes = built.reduce((n, template) => n + template.engine.memoryBytes, 0);
      send({
        t: "stats",
        instancesCreated,
        idleInstances: [...idle.values()].reduce((n, list) => n + list.length, 0),
        heapBytes: getHeapStatistics().total_physical_size,
        engineBytes: [...modules.values()].reduce((n, engine) => n + engine.memoryBytes, 0) + templateEngineBytes,
        strictTemplates: built.length,
        strictTemplateEngineBytes: templateEngineBytes,
        strictTemplateSnapshotBytes: built.reduce((n, template) => n + template.snapshotBytes, 0),
        strictTemplatesBuilt: templatesBuilt,
        strictTemplatesDropped: { ...templatesDropped },
      });
      break;
    }
    case "call-result": {
      const pending = hostCalls.get(message.callId);
      if (!pending) return;
      hostCalls.delete(message.callId);
      if (message.ok) pending.resolve(message.json);
      else pending.reject({ code: message.code, message: message.message });
      break;
    }
    case "kv-direct":
      import("./worker-kv.js").then(
        ({ WorkerKv }) => {
          // Sent at once, before the guest resumes: this message is the only thing that wakes the
          // dispatcher (the events' NOTIFY carries this runtime's origin), and a worker killed before
          // its next flush would take it along.
          kv = new WorkerKv(message.settings, () => {
            send({ t: "kv-events" });
            outbox.flushNow();
          });
        },
        // Calls keep going to the main thread.
        (error: unknown) => send({ t: "kv-failed", message: `worker-side kv unavailable: ${(error as Error).message}` }),
      );
      break;
    case "kv-triggers":
      kv?.triggersChanged(message.app);
      break;
    case "forget":
      for (const [templateKey, slot] of templates) if (slot.app === message.app) forgetSlot(templateKey, slot, "app_changed");
      strictRuns.delete(message.app);
      for (const [key, list] of idle) {
        if (!key.startsWith(`${message.app}/`)) continue;
        for (const instance of list) discard(instance);
        idle.delete(key);
      }
      break;
  }
}

port.on("message", ([packed, messages]: Batch<ToWorker>) => {
  for (const message of messages) receive(message);
  for (let i = 0; i < packed.length; i += PACKED_INVOKE_FIELDS) {
    invoke({
      t: "invoke",
      id: packed[i] as number,
      key: packed[i + 1] as string,
      contextJson: packed[i + 2] as string,
      expectedMs: packed[i + 3] as number,
    });
  }
});

send({ t: "ready" });
