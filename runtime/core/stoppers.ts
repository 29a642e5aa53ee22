// Shutdown in reverse start order: each role pushes a stop step as it starts a service.

export type Stop = () => Promise<void> | void;

export class Stoppers {
  private readonly steps: Stop[] = [];

  push(...steps: Stop[]): void {
    this.steps.push(...steps);
  }

  /** Runs every step, last pushed first; a failing step does not skip the rest (the first error is thrown). */
  async stopAll(): Promise<void> {
    let first: unknown;
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  }
}
