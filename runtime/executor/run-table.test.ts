// The pool's table of runs in flight behaves as a Map of them, through growth and wrap-around.
import { describe, expect, it } from "vitest";
import { RunTable } from "./run-table.js";

describe("RunTable", () => {
  it("agrees with a Map over random sets, gets and deletes, with ids past 2^32", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (const start of [1, 2 ** 32 - 50, 2 ** 40]) {
      const table = new RunTable<string>(4);
      const reference = new Map<number, string>();
      let next = start;
      for (let step = 0; step < 20_000; step++) {
        const live = [...reference.keys()];
        // Mostly sequential ids in flight, some held a long time (a slow run among quick ones).
        if (live.length === 0 || random() < 0.52) {
          const id = next++;
          table.set(id, `run ${id}`);
          reference.set(id, `run ${id}`);
        } else {
          const id = random() < 0.9 ? (live[0] as number) : (live[Math.floor(random() * live.length)] as number);
          expect(table.delete(id)).toBe(true);
          reference.delete(id);
        }
        if (step % 97 === 0) {
          expect(table.size).toBe(reference.size);
          for (const [id, value] of reference) expect(table.get(id)).toBe(value);
          expect(table.get(next)).toBeUndefined();
          expect(table.delete(next + 1)).toBe(false);
          expect(table.keys().sort((a, b) => a - b)).toEqual([...reference.keys()].sort((a, b) => a - b));
        }
      }
    }
  });

  it("keeps nothing of a deleted run", () => {
    const table = new RunTable<{ n: number }>();
    for (let id = 1; id <= 100; id++) table.set(id, { n: id });
    for (let id = 1; id <= 100; id++) table.delete(id);
    expect(table.size).toBe(0);
    expect(table.keys()).toEqual([]);
    expect((table as unknown as { values: unknown[] }).values.every((value) => value === undefined)).toBe(true);
  });
});
