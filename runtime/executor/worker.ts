// Executor worker thread: keeps warm sandbox instances per script version and runs invocations.
// Everything here is disposable: the pool replaces a worker that dies, losing only warm state.
import { parentPort, workerData } from "node:worker_threads";
import type { Limits } from "../shared/limits.js";
import type { BindingCall } from "../bindings/channel.js";
import { EngineModule } from "./engine-module.js";
import { MessageBatcher } from "./message-batcher.js";
import { classifyGuestError, engineFault, type GuestError, type RawOutcome } from "./guest-errors.js";
import type { FromWorker, ToWorker, WorkerSettings } from "./protocol.js";
import { SandboxInstance } from "./sandbox-instance.js";

const port = parentPort;
if (!port) throw new Error("worker.ts must run in a worker thread");
const settings = workerData as WorkerSettings;

const MAX_IDLE_PER_VERSION = 32;
const MAX_SOURCES = 2_000;

const modules = new Map<string, EngineModule>();
const creating = new Map<string, Promise<EngineModule>>();
const idle = new Map<string, SandboxInstance[]>();
const sources = new Map<string, string>();
const hostCalls = new Map<number, { resolve: (json: string) => void; reject: (error: { code: string; message: string }) => void }>();
let nextCallId = 1;
let sweepTimer: NodeJS.Timeout | undefined;

const outbox = new MessageBatcher<FromWorker>((batch) => port.postMessage(batch));
const send = (message: FromWorker) => outbox.send(message);

function versionKey(app: string, script: string, version: number): string {
  return `${app}/${script}@${version}`;
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

function takeIdle(key: string, engine: EngineModule): SandboxInstance | undefined {
  const list = idle.get(key);
  while (list && list.length > 0) {
    const instance = list.pop() as SandboxInstance;
    if (instance.engine === engine && !isWornOut(instance)) return instance;
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
    if (idle.size > 0) scheduleSweep();
  }, settings.instanceMaxAgeMs);
  sweepTimer.unref();
}

function hostCallFor(id: number) {
  return (call: BindingCall): Promise<string> =>
    new Promise((resolve, reject) => {
      const callId = nextCallId++;
      hostCalls.set(callId, { resolve, reject });
      send({ t: "call", id, callId, binding: call.binding, op: call.op, args: call.args });
    });
}

async function invoke(message: Extract<ToWorker, { t: "invoke" }>): Promise<void> {
  const key = versionKey(message.app, message.script, message.version);
  const source = message.source ?? sources.get(key);
  if (source === undefined) {
    send({ t: "need-source", id: message.id });
    return;
  }
  if (message.source !== undefined) {
    sources.delete(key);
    sources.set(key, source);
    if (sources.size > MAX_SOURCES) sources.delete(sources.keys().next().value as string);
  }
  const fileName = `${message.script}.js`;
  let outcome: RawOutcome;
  let engine: EngineModule | undefined;
  try {
    engine = await engineFor(message.app, message.limits.memoryMiB);
    let instance = message.strict ? undefined : takeIdle(key, engine);
    if (!instance) instance = new SandboxInstance(engine, fileName, source, message.limits as Limits, settings);
    outcome = await instance.invoke(message.contextJson, message.limits, hostCallFor(message.id));
    release(key, instance, !message.strict && !outcome.discard);
  } catch (error) {
    // A plain object is what the guest threw while loading; an Error is the engine failing.
    outcome = error instanceof Error ? engineFault(error) : classifyGuestError(error as GuestError, [], fileName);
  }
  if (outcome.retireModule && engine && !engine.retired) retire(engine);
  send({ t: "done", id: message.id, outcome });
}

function receive(message: ToWorker): void {
  switch (message.t) {
    case "invoke":
      void invoke(message);
      break;
    case "call-result": {
      const pending = hostCalls.get(message.callId);
      if (!pending) return;
      hostCalls.delete(message.callId);
      if (message.ok) pending.resolve(message.json);
      else pending.reject({ code: message.code, message: message.message });
      break;
    }
    case "forget":
      for (const [key, list] of idle) {
        if (!key.startsWith(`${message.app}/`)) continue;
        for (const instance of list) discard(instance);
        idle.delete(key);
      }
      break;
  }
}

port.on("message", (batch: ToWorker[]) => {
  for (const message of batch) receive(message);
});

send({ t: "ready" });
