import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { median, normalQuantile, robustSigma, splitSegments, theilSen, thin } from "./trend-stats.js";
import type { Point } from "./trend-stats.js";

function line(n: number, slope: number, noise: (i: number) => number = () => 0): Point[] {
  return Array.from({ length: n }, (_, i) => ({ x: i / 10, y: 100 + slope * (i / 10) + noise(i) }));
}

describe("median and robust sigma", () => {
  test("odd, even and empty", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
  test("one wild value does not move the robust sigma", () => {
    const calm = [1, 2, 3, 4, 5, 6, 7];
    assert.equal(robustSigma([...calm.slice(0, 6), 1e9]), robustSigma(calm));
  });
});

describe("normalQuantile", () => {
  test("matches tabulated values", () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
    assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
    assert.ok(Math.abs(normalQuantile(0.01) + 2.326348) < 1e-5);
    assert.ok(Math.abs(normalQuantile(0.999) - 3.090232) < 1e-5);
  });
  test("rejects p outside (0, 1)", () => {
    assert.throws(() => normalQuantile(1), RangeError);
  });
});

describe("theilSen", () => {
  test("an exact line gives its slope with a zero-width interval", () => {
    const est = theilSen([line(30, 4)], 0.95);
    assert.ok(est);
    assert.ok(Math.abs(est.slope - 4) < 1e-9);
    assert.ok(Math.abs(est.low - 4) < 1e-9 && Math.abs(est.high - 4) < 1e-9);
    assert.equal(est.pairs, (30 * 29) / 2);
  });
  test("noise widens the interval around the true slope; outliers do not drag it", () => {
    // Deterministic zig-zag noise plus two wild points.
    const pts = line(60, 2, (i) => ((i * 7919) % 13) - 6);
    pts[10] = { x: pts[10]?.x ?? 0, y: 10_000 };
    pts[40] = { x: pts[40]?.x ?? 0, y: -10_000 };
    const est = theilSen([pts], 0.95);
    assert.ok(est);
    assert.ok(est.low < 2 && est.high > 2, `interval ${est.low}..${est.high}`);
    assert.ok(Math.abs(est.slope - 2) < 2, `slope ${est.slope}`);
    assert.ok(est.high - est.low > 0.1);
  });
  test("a higher confidence gives a wider interval", () => {
    const pts = line(40, 1, (i) => ((i * 31) % 7) - 3);
    const narrow = theilSen([pts], 0.8);
    const wide = theilSen([pts], 0.99);
    assert.ok(narrow && wide);
    assert.ok(wide.low <= narrow.low && wide.high >= narrow.high);
    assert.ok(wide.high - wide.low > narrow.high - narrow.low);
  });
  test("pooled segments ignore the drop between them", () => {
    const a = line(20, 5);
    const b = line(20, 5).map((p) => ({ x: p.x + 3, y: p.y }));
    const pooled = theilSen([a, b], 0.95);
    const naive = theilSen([[...a, ...b]], 0.95);
    assert.ok(pooled && naive);
    assert.ok(Math.abs(pooled.slope - 5) < 1e-9);
    assert.ok(naive.slope < pooled.slope, "without segments the reset pulls the slope down");
  });
  test("no pairs, no estimate", () => {
    assert.equal(theilSen([[{ x: 0, y: 1 }]], 0.95), undefined);
  });
});

describe("splitSegments", () => {
  test("a steady climb, even a fast one, is one segment", () => {
    assert.equal(splitSegments(line(30, 400), { jumpSigmas: 6, minJump: 16 }).segments.length, 1);
    const noisy = line(50, 20, (i) => ((i * 7919) % 9) - 4);
    assert.equal(splitSegments(noisy, { jumpSigmas: 6, minJump: 16 }).segments.length, 1);
  });
  test("sawtooth resets are found", () => {
    const tooth = (offset: number): Point[] =>
      Array.from({ length: 10 }, (_, i) => ({ x: offset + i / 10, y: 100 + 50 * (i / 10) }));
    const saw = [...tooth(0), ...tooth(1), ...tooth(2)];
    const s = splitSegments(saw, { jumpSigmas: 6, minJump: 16 });
    assert.deepEqual(s.resets, [10, 20]);
    assert.deepEqual(s.shifts, []);
    assert.equal(s.segments.length, 3);
  });
  test("a step up is a level shift; known breaks split too", () => {
    const step = line(20, 0).map((p, i) => ({ x: p.x, y: p.y + (i >= 12 ? 60 : 0) }));
    const s = splitSegments(step, { jumpSigmas: 6, minJump: 16, breaks: [5] });
    assert.deepEqual(s.shifts, [12]);
    assert.deepEqual(s.resets, [5]);
    assert.equal(s.segments.length, 3);
  });
});

test("thin keeps first and last and at most max points", () => {
  const pts = Array.from({ length: 1000 }, (_, i) => i);
  const t = thin(pts, 10);
  assert.equal(t.length, 10);
  assert.equal(t[0], 0);
  assert.equal(t.at(-1), 999);
  assert.deepEqual(thin([1, 2], 10), [1, 2]);
});
