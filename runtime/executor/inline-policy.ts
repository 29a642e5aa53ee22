// Which script versions may run inline on the main thread (inline-runner.ts). A version earns it on
// the workers: a streak of runs that each finished quickly (a slow run halves the streak rather than
// ending it, so a busy machine's scheduling noise does not keep a quick script off the main thread
// forever). Versions that make binding calls (kv, fetch, timers) qualify only when `hostCalls` is on:
// their calls are then served straight from the main thread, without two thread hops each. A version
// loses its standing the moment an inline run is abandoned (over its small budget): for a period that
// doubles with every further demotion (forgiven after a long clean inline stretch). A version that
// overran its budget after a call with an effect (which cannot be re-run) leaves for good, and its app
// may not run any calling version inline for a doubling period, so redeploying cannot repeat it.

export interface InlineOptions {
  /** Guest time (ms) one inline run may take; past it the run is abandoned and re-run on a worker. */
  readonly budgetMs: number;
  /** Consecutive qualifying worker runs before a version runs inline. */
  readonly promoteAfter: number;
  /** A worker run qualifies when its guest time (sandbox load excluded) is at most this. */
  readonly promoteMaxMs: number;
  /** Larger scripts never run inline: compiling one is not interruptible. */
  readonly maxSourceBytes: number;
  /** How long a first demotion lasts; each further one of the same version doubles it, up to `maxDemoteMs`. */
  readonly demoteMs: number;
  readonly maxDemoteMs: number;
  /** Inline engine modules at once, one per app and memory limit (each one is a WASM memory on the main thread). */
  readonly maxModules: number;
  /** Versions that make no binding call may run inline. */
  readonly hostFree: boolean;
  /**
   * Versions that make binding calls may run inline, their calls served from the main thread. Before
   * its first call with an effect (anything but a kv read or a timer) such a run is abandoned and re-run
   * on a worker when it overruns `budgetMs`; after one it cannot be, so it may use up to `afterEffectMs`
   * of guest time in all, and past that it fails with ENGINE_FAULT rather than hold the main thread.
   */
  readonly hostCalls: boolean;
  readonly afterEffectMs: number;
  /** Inline runs awaiting a binding call at once; more go to the workers (each holds a sandbox instance). */
  readonly maxInFlight: number;
}

export const DEFAULT_INLINE_OPTIONS: InlineOptions = Object.freeze({
  budgetMs: 2,
  promoteAfter: 20,
  promoteMaxMs: 0.5,
  maxSourceBytes: 64 * 1024,
  demoteMs: 10_000,
  maxDemoteMs: 10 * 60_000,
  maxModules: 16,
  hostFree: true,
  hostCalls: false,
  afterEffectMs: 10,
  maxInFlight: 256,
});

/** What a finished worker run tells about its version. */
export interface WorkerRunFacts {
  /** Binding calls the run made (each one crossed to the main thread). */
  readonly hostCalls: number;
  /** Guest time of the run, without loading a new sandbox. */
  readonly guestMs: number;
  /** The run ended without a limit violation or engine fault (a script error is clean). */
  readonly clean: boolean;
}

/**
 * Why an inline run was abandoned or stopped: over budget, a binding call (with `hostCalls` off), an
 * engine fault, or over budget after a call with an effect (stopped, not re-run).
 */
export type DemotionReason = "budget" | "host-call" | "fault" | "effect-budget";

interface VersionState {
  streak: number;
  demotions: number;
  demotedUntil: number;
  /** It made a binding call: it stays on the workers. */
  never: boolean;
  /** Clean inline runs since the last demotion. */
  inlineRuns: number;
  /** A worker run of it made binding calls. */
  calls: boolean;
}

interface AppState {
  demotions: number;
  demotedUntil: number;
}

const MAX_VERSIONS = 10_000;
/** The app of a version key (`app/script@version`; app ids contain no '/'). */
const appOf = (key: string) => key.slice(0, key.indexOf("/"));
/** Clean inline runs after which a version's past demotions are forgiven (the next one lasts `demoteMs` again). */
const FORGIVE_AFTER = 10_000;

export class InlinePolicy {
  private readonly versions = new Map<string, VersionState>();
  /** Apps whose calling versions may not run inline for a while (one overran after an effect). */
  private readonly apps = new Map<string, AppState>();

  constructor(
    private readonly options: InlineOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether the version may try an inline run now. */
  eligible(key: string): boolean {
    const state = this.versions.get(key);
    if (state === undefined || state.never || state.streak < this.options.promoteAfter) return false;
    const now = this.now();
    if (now < state.demotedUntil) return false;
    if (!state.calls) return this.options.hostFree;
    const app = this.apps.get(appOf(key));
    return app === undefined || now >= app.demotedUntil;
  }

  /** Counts a worker run towards (or against) the version's streak. */
  learn(key: string, facts: WorkerRunFacts): void {
    const state = this.state(key);
    if (facts.hostCalls > 0 && !this.options.hostCalls) {
      state.never = true;
      state.streak = 0;
      return;
    }
    if (facts.hostCalls > 0) state.calls = true;
    if (!facts.clean) state.streak = 0;
    else if (facts.guestMs <= this.options.promoteMaxMs) state.streak++;
    else state.streak = Math.floor(state.streak / 2);
  }

  /** An inline run of the version finished cleanly. */
  ranInline(key: string): void {
    const state = this.versions.get(key);
    if (state && ++state.inlineRuns >= FORGIVE_AFTER) {
      state.demotions = 0;
      state.inlineRuns = 0;
    }
  }

  /** An inline run was abandoned: the version goes back to the workers and must earn its way back. */
  demote(key: string, reason: DemotionReason): void {
    const state = this.state(key);
    state.streak = 0;
    state.inlineRuns = 0;
    if (reason === "host-call" || reason === "effect-budget") state.never = true;
    const period = Math.min(this.options.maxDemoteMs, this.options.demoteMs * 2 ** state.demotions);
    state.demotions++;
    state.demotedUntil = this.now() + period;
    if (reason === "effect-budget") {
      const app = this.apps.get(appOf(key)) ?? { demotions: 0, demotedUntil: 0 };
      app.demotedUntil = this.now() + Math.min(this.options.maxDemoteMs, this.options.demoteMs * 2 ** app.demotions);
      app.demotions++;
      this.apps.set(appOf(key), app);
    }
  }

  /** Forgets an app's versions (its settings changed, or it was deleted). */
  forgetApp(app: string): void {
    for (const key of this.versions.keys()) if (key.startsWith(`${app}/`)) this.versions.delete(key);
  }

  /** Whether the version's worker runs made binding calls (its inline runs may then await the host). */
  calls(key: string): boolean {
    return this.versions.get(key)?.calls === true;
  }

  /** Versions currently allowed inline. */
  get promoted(): number {
    let n = 0;
    for (const key of this.versions.keys()) if (this.eligible(key)) n++;
    return n;
  }

  private state(key: string): VersionState {
    let state = this.versions.get(key);
    if (!state) {
      state = { streak: 0, demotions: 0, demotedUntil: 0, never: false, inlineRuns: 0, calls: false };
      this.versions.set(key, state);
      if (this.versions.size > MAX_VERSIONS) this.versions.delete(this.versions.keys().next().value as string);
    }
    return state;
  }
}
