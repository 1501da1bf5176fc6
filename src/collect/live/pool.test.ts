import { test } from "node:test";
import assert from "node:assert/strict";
import { runPool } from "./pool.js";

test("runPool runs every item once with at most `limit` in flight", async () => {
  let inFlight = 0;
  let peak = 0;
  const seen: number[] = [];
  await runPool([...Array(20).keys()], 3, async (item) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setImmediate(r));
    seen.push(item);
    inFlight--;
  });
  assert.equal(peak, 3);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    [...Array(20).keys()],
  );
  await runPool([], 4, () => Promise.reject(new Error("never called")));
});
