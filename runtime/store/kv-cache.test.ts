// The read cache's ordering rules, with the interleavings written out step by step (the store and
// cluster tests run the same rules against real databases).
import { describe, expect, it } from "vitest";
import { ABSENT_VERSION, KvReadCache } from "./kv-cache.js";

const A = "app";
const C = "c";
const K = "k";

function cache(options: { maxBytes?: number; maxValueChars?: number } = {}) {
  let live = true;
  const made = new KvReadCache({ maxBytes: options.maxBytes ?? 1 << 20, maxValueChars: options.maxValueChars, live: () => live });
  return Object.assign(made, { setLive: (value: boolean) => (live = value) });
}

describe("KvReadCache", () => {
  it("a read's value is served until something changes it; a write's value replaces it", () => {
    const c = cache();
    expect(c.peek(A, C, K)).toBeUndefined();
    const read = c.begin(A, C, K);
    c.offer(read, "1", 5);
    expect(c.peek(A, C, K)).toBe("1");
    const write = c.begin(A, C, K);
    c.offer(write, "2", 6);
    expect(c.peek(A, C, K)).toBe("2");
  });

  it("a read that began before a write and ends after it does not bring the older value back", () => {
    const c = cache();
    const read = c.begin(A, C, K);
    const write = c.begin(A, C, K);
    c.offer(write, "new", 8);
    c.offer(read, "old", 7);
    expect(c.peek(A, C, K)).toBe("new");
  });

  it("of two overlapping writes, the higher version stays whichever answer comes last", () => {
    const c = cache();
    const first = c.begin(A, C, K);
    const second = c.begin(A, C, K);
    c.offer(second, "second", 11);
    c.offer(first, "first", 10);
    expect(c.peek(A, C, K)).toBe("second");
  });

  it("a read that began before another process's change offers nothing", () => {
    const c = cache();
    const read = c.begin(A, C, K);
    c.invalidate(A, C, K);
    c.offer(read, "stale", 3);
    expect(c.peek(A, C, K)).toBeUndefined();
  });

  it("another process's change drops the cached value", () => {
    const c = cache();
    c.offer(c.begin(A, C, K), "1", 1);
    c.invalidate(A, C, K);
    expect(c.peek(A, C, K)).toBeUndefined();
    expect(c.size.entries).toBe(0);
  });

  it("a delete alone leaves the key known absent; a later insert replaces that", () => {
    const c = cache();
    c.offer(c.begin(A, C, K), "1", 4);
    const del = c.beginDelete(A, C, K);
    expect(c.peek(A, C, K)).toBeUndefined();
    c.endDelete(del);
    expect(c.peek(A, C, K)).toBeNull();
    c.offer(c.begin(A, C, K), "again", 2, true);
    expect(c.peek(A, C, K)).toBe("again");
  });

  it("a read or write that began before a delete offers nothing, and the delete caches nothing", () => {
    const c = cache();
    const read = c.begin(A, C, K);
    const write = c.beginWrite(A, C, K);
    const del = c.beginDelete(A, C, K);
    c.offer(write, "w", 9);
    c.offer(read, "r", 8);
    c.endDelete(del);
    expect(c.peek(A, C, K)).toBeUndefined();
  });

  it("an insert that began during a delete and answered first: the delete does not claim the key absent", () => {
    const c = cache();
    const del = c.beginDelete(A, C, K);
    const insert = c.beginWrite(A, C, K);
    // The insert waited for the delete's row lock, then committed; its answer came first.
    c.offer(insert, "re-inserted", 3, true);
    c.endDelete(del);
    expect(c.peek(A, C, K)).toBeUndefined();
  });

  it("a write that ends after a delete's end is a barrier: a read begun between them cannot cache what the write replaced", () => {
    const c = cache();
    const del = c.beginDelete(A, C, K);
    const insert = c.beginWrite(A, C, K);
    // The insert waits for the delete's row lock; the delete answers, then a read begins and runs
    // before the insert commits: it sees the key absent.
    c.endDelete(del);
    const read = c.begin(A, C, K);
    c.offer(read, null, ABSENT_VERSION);
    c.offer(insert, "514", 7, true);
    expect(c.peek(A, C, K)).toBeUndefined();
    // Whichever of the two answers comes first.
    const del2 = c.beginDelete(A, C, K);
    const insert2 = c.beginWrite(A, C, K);
    c.endDelete(del2);
    const read2 = c.begin(A, C, K);
    c.offer(insert2, "515", 8, true);
    c.offer(read2, null, ABSENT_VERSION);
    expect(c.peek(A, C, K)).toBeUndefined();
  });

  it("a write that ends after another process's change is a barrier: a read begun after the change cannot cache the older value", () => {
    const c = cache();
    const write = c.beginWrite(A, C, K);
    // Another process's update commits (its notification arrives) while this write waits for its row lock.
    c.invalidate(A, C, K);
    const read = c.begin(A, C, K);
    c.offer(read, "theirs", 20);
    expect(c.peek(A, C, K)).toBe("theirs");
    c.offer(write, "ours", 21);
    expect(c.peek(A, C, K)).toBeUndefined();
  });

  it("an insert finding a higher version cached cannot order the two: nothing is cached", () => {
    const c = cache();
    c.offer(c.begin(A, C, K), "earlier life", 40);
    const insert = c.begin(A, C, K);
    c.offer(insert, "new life", 12, true);
    expect(c.peek(A, C, K)).toBeUndefined();
  });

  it("a failed write is a barrier: the value is unknown", () => {
    const c = cache();
    c.offer(c.begin(A, C, K), "1", 1);
    const read = c.begin(A, C, K);
    c.fail(c.begin(A, C, K));
    c.offer(read, "1", 1);
    expect(c.peek(A, C, K)).toBeUndefined();
  });

  it("a missing key is cached as absent and a failed read changes nothing", () => {
    const c = cache();
    c.offer(c.begin(A, C, K), null, ABSENT_VERSION);
    expect(c.peek(A, C, K)).toBeNull();
    c.abandon(c.begin(A, "other", K));
    expect(c.size.entries).toBe(1);
  });

  it("stands aside while not live, and forgets everything on clear", () => {
    const c = cache();
    c.offer(c.begin(A, C, K), "1", 1);
    c.setLive(false);
    expect(c.peek(A, C, K)).toBeUndefined();
    c.offer(c.begin(A, C, "other"), "2", 1);
    c.setLive(true);
    expect(c.peek(A, C, "other")).toBeUndefined();
    const read = c.begin(A, C, "third");
    c.clear();
    c.offer(read, "3", 1);
    expect(c.peek(A, C, K)).toBeUndefined();
    expect(c.peek(A, C, "third")).toBeUndefined();
  });

  it("invalidateApp drops that app's keys only", () => {
    const c = cache();
    c.offer(c.begin("a1", C, K), "1", 1);
    c.offer(c.begin("a10", C, K), "2", 1);
    c.invalidateApp("a1");
    expect(c.peek("a1", C, K)).toBeUndefined();
    expect(c.peek("a10", C, K)).toBe("2");
  });

  it("evicts the least recently used values past maxBytes; an evicted key's slower older read stays out", () => {
    const c = cache({ maxBytes: 1000 });
    for (const key of ["a", "b", "c"]) c.offer(c.begin(A, C, key), "x".repeat(100), 1);
    expect(c.peek(A, C, "a")).toBe("x".repeat(100)); // a is now the most recent
    const slow = c.begin(A, C, "b");
    c.offer(c.begin(A, C, "d"), "x".repeat(100), 1);
    expect(c.peek(A, C, "b")).toBeUndefined();
    expect(c.peek(A, C, "a")).toBeDefined();
    expect(c.size.bytes).toBeLessThanOrEqual(1000);
    // b was evicted at version 1: a read that saw version 1 may put it back, an older one may not.
    c.offer(slow, "older", 0);
    expect(c.peek(A, C, "b")).toBeUndefined();
    // Peeks that found a value, peeks that did not, and the one value evicted (b).
    expect(c.counts()).toEqual({ hits: 2, misses: 2, evictions: 1 });
  });

  it("does not cache values above maxValueChars, and a write of one still hides the older value", () => {
    const c = cache({ maxValueChars: 10 });
    c.offer(c.begin(A, C, K), "small", 1);
    const read = c.begin(A, C, K);
    expect(c.accepts("x".repeat(11))).toBe(false);
    c.offer(c.begin(A, C, K), undefined, 2);
    expect(c.peek(A, C, K)).toBeUndefined();
    c.offer(read, "small", 1);
    expect(c.peek(A, C, K)).toBeUndefined();
  });
});
