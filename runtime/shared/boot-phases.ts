// Start-up timing: when each step finished, in ms since the process started (performance.now()'s
// origin), so module loading before startRuntime shows as the first mark. Logged once listening.
export class BootPhases {
  private readonly marks: Record<string, number> = { modules: Math.round(performance.now()) };

  mark(phase: string): void {
    this.marks[phase] = Math.round(performance.now());
  }

  toJSON(): Readonly<Record<string, number>> {
    return { ...this.marks };
  }
}
