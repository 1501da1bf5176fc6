// The trend detection's measured quality stays above floors. The generator is seeded, so this is
// deterministic; the floors sit a little under what the shipped thresholds measure (see
// docs/trends.md) so a change that makes detection worse fails here, while the known weak spot —
// small level shifts hidden in heavy GC noise read as slow leaks — keeps its own, lower floor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAdvisories } from "../../src/advisories/load.js";
import { measureQuality } from "./quality.js";
import { EXPECTED, labelledSet } from "./series.js";

const FLOOR: Record<string, { precision: number; recall: number }> = {
  "flat-noisy": { precision: 0.97, recall: 0.97 },
  "sawtooth-restarts": { precision: 0.88, recall: 0.97 },
  "step-upgrade": { precision: 0.97, recall: 0.85 },
  "slow-leak": { precision: 0.88, recall: 0.95 },
  "fast-leak": { precision: 0.88, recall: 0.97 },
  "cpu-hot": { precision: 0.95, recall: 0.95 },
  "cpu-quiet": { precision: 0.95, recall: 0.97 },
};

test("trend detection precision and recall per series type stay above their floors", async () => {
  const [advisory] = (await loadAdvisories()).filter((a) => a.id === "CNID-2024-0001");
  assert.ok(advisory);
  const q = measureQuality(advisory.symptoms, 20240626, 60);
  assert.deepEqual(
    q.types.map((t) => t.type),
    Object.keys(FLOOR),
  );
  for (const t of q.types) {
    const floor = FLOOR[t.type];
    assert.ok(floor);
    assert.ok(t.n >= 10, `${t.type}: only ${String(t.n)} series`);
    assert.ok(
      t.precision >= floor.precision,
      `${t.type} precision ${t.precision.toFixed(3)} < ${String(floor.precision)}`,
    );
    assert.ok(t.recall >= floor.recall, `${t.type} recall ${t.recall.toFixed(3)} < ${String(floor.recall)}`);
  }
});

test("a detector that flags everything fails the floors (the measurement can fail)", async () => {
  const [advisory] = (await loadAdvisories()).filter((a) => a.id === "CNID-2024-0001");
  assert.ok(advisory);
  // A threshold below zero makes every memory series a "leak"; flat and step recall must collapse.
  const q = measureQuality({ ...advisory.symptoms, memorySlopeMiBPerHour: -1000 }, 20240626, 20);
  const flat = q.types.find((t) => t.type === "flat-noisy");
  assert.equal(flat?.recall, 0);
});

test("the generator is deterministic and labels every type", () => {
  const a = labelledSet(7, 3);
  const b = labelledSet(7, 3);
  assert.deepEqual(a, b);
  assert.deepEqual(new Set(a.map((x) => x.type)), new Set(Object.keys(EXPECTED)));
  assert.notDeepEqual(labelledSet(8, 3)[0]?.series[0]?.samples, a[0]?.series[0]?.samples);
});
