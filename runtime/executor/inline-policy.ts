// Which script versions may run inline on the main thread (inline-runner.ts). A version earns it on
// the workers: a streak of runs that each finished quickly and made no binding call (a slow run
// halves the streak rather than ending it, so a busy machine's scheduling noise does not keep a quick
// script off the main thread forever). It loses it the moment an inline run is abandoned (over its
// small budget, or reaching for the host): for a period that doubles with every further demotion
// (forgiven after a long clean inline stretch), and for good once it made a binding call, since such
// a version gains nothing from running inline.

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
}

export const DEFAULT_INLINE_OPTIONS: InlineOptions = Object.freeze({
  budgetMs: 2,
  promoteAfter: 20,
  promoteMaxMs: 0.5,
  maxSourceBytes: 64 * 1024,
  demoteMs: 10_000,
  maxDemoteMs: 10 * 60_000,
  maxModules: 16,
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

export type DemotionReason = "budget" | "host-call" | "fault";

interface VersionState {
  streak: number;
  demotions: number;
  demotedUntil: number;
  /** It made a binding call: it stays on the workers. */
  never: boolean;
  /** Clean inline runs since the last demotion. */
  inlineRuns: number;
}

const MAX_VERSIONS = 10_000;
/** Clean inline runs after which a version's past demotions are forgiven (the next one lasts `demoteMs` again). */
const FORGIVE_AFTER = 10_000;

export class InlinePolicy {
  private readonly versions = new Map<string, VersionState>();

  constructor(
    private readonly options: InlineOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether the version may try an inline run now. */
  eligible(key: string): boolean {
    const state = this.versions.get(key);
    return state !== undefined && !state.never && state.streak >= this.options.promoteAfter && this.now() >= state.demotedUntil;
  }

  /** Counts a worker run towards (or against) the version's streak. */
  learn(key: string, facts: WorkerRunFacts): void {
    const state = this.state(key);
    if (facts.hostCalls > 0) {
      state.never = true;
      state.streak = 0;
    } else if (!facts.clean) state.streak = 0;
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
    if (reason === "host-call") state.never = true;
    const period = Math.min(this.options.maxDemoteMs, this.options.demoteMs * 2 ** state.demotions);
    state.demotions++;
    state.demotedUntil = this.now() + period;
  }

  /** Forgets an app's versions (its settings changed, or it was deleted). */
  forgetApp(app: string): void {
    for (const key of this.versions.keys()) if (key.startsWith(`${app}/`)) this.versions.delete(key);
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
      state = { streak: 0, demotions: 0, demotedUntil: 0, never: false, inlineRuns: 0 };
      this.versions.set(key, state);
      if (this.versions.size > MAX_VERSIONS) this.versions.delete(this.versions.keys().next().value as string);
    }
    return state;
  }
}
