import { test } from "node:test";
import assert from "node:assert/strict";
import { runPool } from "./pool.js";

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("never more than the limit at once; results in item order; a failure is its item's alone", async () => {
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const out = await runPool([30, 5, 20, 1, 10, 2], 2, async (ms, i) => {
    started.push(i);
    running++;
    peak = Math.max(peak, running);
    await tick(ms);
    running--;
    if (i === 3) throw new Error("broken");
    return ms * 2;
  });
  assert.equal(peak, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5], "started in item order");
  assert.deepEqual(
    out.map((r) => (r?.status === "fulfilled" ? r.value : r?.status)),
    [60, 10, 40, "rejected", 20, 4],
  );
});

test("an aborted signal starts nothing more; running items finish", async () => {
  const stop = new AbortController();
  const out = await runPool(
    [1, 2, 3, 4],
    2,
    async (n) => {
      if (n === 2) stop.abort();
      await tick(5);
      return n;
    },
    { signal: stop.signal },
  );
  assert.deepEqual(
    out.map((r) => (r?.status === "fulfilled" ? r.value : undefined)),
    [1, 2, undefined, undefined],
  );
});

test("a limit above the item count, and no items", async () => {
  assert.deepEqual(
    (await runPool([1], 8, (n) => Promise.resolve(n + 1))).map((r) => r?.status),
    ["fulfilled"],
  );
  assert.deepEqual(await runPool([], 3, () => Promise.resolve(0)), []);
  await assert.rejects(
    runPool([1], 0, () => Promise.resolve(0)),
    RangeError,
  );
});
