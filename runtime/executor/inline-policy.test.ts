// The inline policy on a fake clock: how a version earns, loses and regains inline runs.
import { describe, expect, it } from "vitest";
import { DEFAULT_INLINE_OPTIONS, InlinePolicy } from "./inline-policy.js";

const options = { ...DEFAULT_INLINE_OPTIONS, promoteAfter: 4, promoteMaxMs: 0.5, demoteMs: 1_000, maxDemoteMs: 3_000 };
const quick = { hostCalls: 0, guestMs: 0.1, clean: true };

function setup() {
  const clock = { now: 0 };
  const policy = new InlinePolicy(options, () => clock.now);
  const earn = (key: string, runs = options.promoteAfter) => {
    for (let i = 0; i < runs; i++) policy.learn(key, quick);
  };
  return { clock, policy, earn };
}

describe("inline policy", () => {
  it("promotes a version after a streak of quick, clean, host-free worker runs", () => {
    const { policy, earn } = setup();
    earn("a/s@1", options.promoteAfter - 1);
    expect(policy.eligible("a/s@1")).toBe(false);
    earn("a/s@1", 1);
    expect(policy.eligible("a/s@1")).toBe(true);
    expect(policy.eligible("a/s@2")).toBe(false);
  });

  it("a slow run halves the streak; a limit violation ends it; a binding call rules the version out for good", () => {
    const { policy, earn } = setup();
    earn("slow", 3);
    policy.learn("slow", { ...quick, guestMs: 5 });
    earn("slow", 2);
    expect(policy.eligible("slow")).toBe(false);
    earn("slow", 1);
    expect(policy.eligible("slow")).toBe(true);

    earn("unclean", 3);
    policy.learn("unclean", { ...quick, clean: false });
    earn("unclean", 3);
    expect(policy.eligible("unclean")).toBe(false);

    earn("caller", 3);
    policy.learn("caller", { ...quick, hostCalls: 1 });
    earn("caller", 20);
    expect(policy.eligible("caller")).toBe(false);
  });

  it("a demotion lasts its period, doubling with each further one up to the cap, and the streak must be earned again", () => {
    const { clock, policy, earn } = setup();
    const periods: number[] = [];
    for (let i = 0; i < 4; i++) {
      earn("v");
      policy.demote("v", "budget");
      earn("v");
      const from = clock.now;
      while (!policy.eligible("v")) clock.now += 100;
      periods.push(clock.now - from);
    }
    expect(periods).toEqual([1_000, 2_000, 3_000, 3_000]);
    policy.demote("v", "budget");
    clock.now += 10_000;
    expect(policy.eligible("v")).toBe(false);
    earn("v");
    expect(policy.eligible("v")).toBe(true);
  });

  it("a demotion for a binding call is for good", () => {
    const { clock, policy, earn } = setup();
    earn("v");
    policy.demote("v", "host-call");
    clock.now += 1_000_000;
    earn("v");
    expect(policy.eligible("v")).toBe(false);
  });

  it("a long clean inline stretch forgives past demotions", () => {
    const { clock, policy, earn } = setup();
    earn("v");
    policy.demote("v", "budget");
    policy.demote("v", "budget");
    clock.now += 10_000;
    earn("v");
    for (let i = 0; i < 10_000; i++) policy.ranInline("v");
    policy.demote("v", "budget");
    earn("v");
    clock.now += 999;
    expect(policy.eligible("v")).toBe(false);
    clock.now += 1;
    expect(policy.eligible("v")).toBe(true);
  });

  it("forgetting an app clears its versions only", () => {
    const { policy, earn } = setup();
    earn("a/s@1");
    earn("ab/s@1");
    policy.forgetApp("a");
    expect(policy.eligible("a/s@1")).toBe(false);
    expect(policy.eligible("ab/s@1")).toBe(true);
  });
});
