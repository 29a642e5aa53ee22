import { describe, expect, it } from "vitest";
import { RunCosts } from "./run-costs.js";

describe("RunCosts", () => {
  it("gives the unknown cost until a version's first run ends, then a moving average", () => {
    const costs = new RunCosts(50);
    expect(costs.expected("a/hello@1")).toBe(50);
    costs.learn("a/hello@1", 10);
    expect(costs.expected("a/hello@1")).toBe(10);
    costs.learn("a/hello@1", 20);
    expect(costs.expected("a/hello@1")).toBeCloseTo(13);
    expect(costs.expected("a/other@1")).toBe(50);
  });

  it("keeps a version learned within every few thousand runs while 10,000 others come and go", () => {
    const costs = new RunCosts(50);
    costs.learn("hot", 1);
    for (let i = 0; i < 30_000; i++) {
      costs.learn(`cold-${i}`, 5);
      if (i % 1_000 === 0) costs.learn("hot", 1);
    }
    expect(costs.expected("hot")).toBe(1);
    // The oldest of the others were evicted: they cost the unknown cost again.
    expect(costs.expected("cold-0")).toBe(50);
    expect(costs.expected("cold-29999")).toBe(5);
  });

  it("evicts a version no run has learned for longer than the table holds", () => {
    const costs = new RunCosts(50);
    costs.learn("stale", 1);
    for (let i = 0; i < 10_000; i++) costs.learn(`other-${i}`, 5);
    expect(costs.expected("stale")).toBe(50);
  });
});
