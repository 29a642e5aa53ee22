// The hang watchdog fires only for a run that is executing past its limit: never for queued runs,
// never while a run awaits a host call, never after the run moved on.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BusyMarker, sharedNow } from "./busy-marker.js";
import { Watchdog } from "./watchdog.js";

describe("watchdog", () => {
  let now = 0;
  let marker: BusyMarker;
  let hung: number[];
  const allowed = new Map<number, number>();

  const watchdog = () =>
    new Watchdog({
      marker,
      allowedMs: (id) => allowed.get(id),
      onHung: (id) => hung.push(id),
      checkEveryMs: 1_000,
      now: () => now,
    });
  /** The worker side: enter() stamps the shared clock, so place `now` relative to it. */
  const enter = (id: number) => {
    marker.enter(id);
    now = sharedNow();
  };
  const advance = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    marker = new BusyMarker();
    hung = [];
    allowed.clear();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("never fires while nothing executes, however long work waits", async () => {
    allowed.set(1, 500);
    const dog = watchdog();
    dog.arm();
    await advance(60_000);
    expect(hung).toEqual([]);
    expect(dog.armed).toBe(true);
    dog.disarm();
    expect(dog.armed).toBe(false);
  });

  it("fires once for the run executing past its allowed time, naming it", async () => {
    allowed.set(7, 500);
    const dog = watchdog();
    dog.arm();
    enter(7);
    await advance(400);
    expect(hung).toEqual([]);
    await advance(1_200);
    expect(hung).toEqual([7]);
    await advance(10_000);
    expect(hung).toEqual([7]);
    expect(dog.armed).toBe(false);
  });

  it("does not fire when runs take turns, each within its limit", async () => {
    for (let id = 1; id <= 20; id++) allowed.set(id, 500);
    const dog = watchdog();
    dog.arm();
    for (let id = 1; id <= 20; id++) {
      enter(id);
      await advance(400);
      marker.leave();
    }
    expect(hung).toEqual([]);
    dog.disarm();
  });

  it("ignores an executing id the pool no longer knows", async () => {
    const dog = watchdog();
    dog.arm();
    enter(99);
    await advance(30_000);
    expect(hung).toEqual([]);
    dog.disarm();
  });
});
