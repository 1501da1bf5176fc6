// Labelled calico-node resource series for measuring the trend detection: flat and noisy, a
// sawtooth of leak-then-restart, a step after an upgrade, a slow leak and a fast leak (memory), and
// clusters with a few CPU-hot pods among quiet ones (CPU). Deterministic for a seed.
//
// The noise is what makes real working sets hard: white noise, a Go-heap-like oscillation, and a
// slowly wandering AR(1) component that can look like a trend over a few hours.

import type { ResourceSeries } from "../../src/model/resources.js";
import { seededRandom } from "../fixtures/felix-log.js";

export const MEMORY_TYPES = [
  "flat-noisy",
  "sawtooth-restarts",
  "step-upgrade",
  "slow-leak",
  "fast-leak",
] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];
export const CPU_TYPES = ["cpu-hot", "cpu-quiet"] as const;
export type CpuType = (typeof CPU_TYPES)[number];

/** Whether the detector should flag the series (a leak, or a CPU outlier). */
export const EXPECTED: Record<MemoryType | CpuType, boolean> = {
  "flat-noisy": false,
  "sawtooth-restarts": true,
  "step-upgrade": false,
  "slow-leak": true,
  "fast-leak": true,
  "cpu-hot": true,
  "cpu-quiet": false,
};

export interface Labelled {
  type: MemoryType | CpuType;
  pod: string;
  /** The slope the generator used, MiB/h (0 when none). */
  trueSlope: number;
  series: ResourceSeries[];
}

export type Rng = () => number;

/** The fixtures' seeded PRNG, so trend series are as reproducible as the logs. */
export function rngFor(seed: number): Rng {
  return seededRandom(seed);
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

function gauss(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const MIB = 1024 * 1024;

export interface Shape {
  hours: number;
  stepSeconds: number;
  base: number;
  /** MiB at hour h before noise, and whether a restart happened just before sample i. */
  level: (h: number) => number;
  restartsAt: number[];
}

function noiseModel(rng: Rng): (h: number) => number {
  const white = uniform(rng, 1, 4);
  const gcAmp = uniform(rng, 2, 10);
  const gcPeriod = uniform(rng, 5, 30) / 60;
  const phase = uniform(rng, 0, 2 * Math.PI);
  let wander = 0;
  return (h) => {
    wander = 0.98 * wander + 0.6 * gauss(rng);
    return white * gauss(rng) + gcAmp * Math.sin((2 * Math.PI * h) / gcPeriod + phase) + wander;
  };
}

function memoryShape(type: MemoryType, rng: Rng): { shape: Shape; slope: number } {
  const hours = type === "sawtooth-restarts" ? uniform(rng, 12, 24) : uniform(rng, 3, 24);
  const stepSeconds = hours >= 6 ? 300 : 60;
  const base = uniform(rng, 80, 200);
  switch (type) {
    case "flat-noisy":
      return { shape: { hours, stepSeconds, base, level: () => base, restartsAt: [] }, slope: 0 };
    case "step-upgrade": {
      const at = hours * uniform(rng, 0.3, 0.7);
      const jump = uniform(rng, 20, 80);
      return {
        shape: { hours, stepSeconds, base, level: (h) => base + (h >= at ? jump : 0), restartsAt: [] },
        slope: 0,
      };
    }
    case "slow-leak": {
      const slope = uniform(rng, 8, 20);
      return { shape: { hours, stepSeconds, base, level: (h) => base + slope * h, restartsAt: [] }, slope };
    }
    case "fast-leak": {
      const slope = uniform(rng, 60, 300);
      return { shape: { hours, stepSeconds, base, level: (h) => base + slope * h, restartsAt: [] }, slope };
    }
    case "sawtooth-restarts": {
      const slope = uniform(rng, 15, 60);
      const period = uniform(rng, 3, 8);
      const restartsAt: number[] = [];
      for (let t = period; t < hours; t += period) restartsAt.push(t);
      return {
        shape: { hours, stepSeconds, base, level: (h) => base + slope * (h % period), restartsAt },
        slope,
      };
    }
  }
}

function samplesOf(shape: Shape, noise: (h: number) => number, end: number): { t: string; value: number }[] {
  const n = Math.floor((shape.hours * 3600) / shape.stepSeconds);
  const start = end - n * shape.stepSeconds * 1000;
  return Array.from({ length: n + 1 }, (_, i) => {
    const h = (i * shape.stepSeconds) / 3600;
    const mib = Math.max(20, shape.level(h) + noise(h));
    return { t: new Date(start + i * shape.stepSeconds * 1000).toISOString(), value: Math.round(mib * MIB) };
  });
}

function resourceSeries(
  pod: string,
  metric: ResourceSeries["metric"],
  samples: ResourceSeries["samples"],
): ResourceSeries {
  return {
    node: `node-${pod}`,
    namespace: "kube-system",
    pod,
    container: "calico-node",
    metric,
    from: { source: "file", ref: "scripts/trends generator" },
    samples,
  };
}

/** One memory series of a type; half the sawtooth series come without a restart counter. */
export function memorySeries(type: MemoryType, rng: Rng, pod: string, end: number): Labelled {
  const { shape, slope } = memoryShape(type, rng);
  const mem = samplesOf(shape, noiseModel(rng), end);
  const series = [resourceSeries(pod, "memory-working-set-bytes", mem)];
  if (shape.restartsAt.length > 0 && rng() < 0.5) {
    const first = Date.parse(mem[0]?.t ?? "");
    const restarts = mem.map((s) => {
      const h = (Date.parse(s.t) - first) / 3_600_000;
      return { t: s.t, value: shape.restartsAt.filter((r) => r <= h).length };
    });
    series.push(resourceSeries(pod, "restarts", restarts));
  }
  return { type, pod, trueSlope: slope, series };
}

/** A cluster of `pods` calico-node CPU series, `hot` of them busy (the retry loop) and the rest quiet. */
export function cpuCluster(rng: Rng, pods: number, hot: number, prefix: string, end: number): Labelled[] {
  const hours = uniform(rng, 2, 24);
  const stepSeconds = hours >= 6 ? 300 : 60;
  const n = Math.floor((hours * 3600) / stepSeconds);
  const start = end - n * stepSeconds * 1000;
  return Array.from({ length: pods }, (_, p) => {
    const isHot = p < hot;
    const quiet = uniform(rng, 0.015, 0.06);
    const busy = uniform(rng, 0.3, 0.95);
    // Some hot pods went hot during the window, others were hot all along.
    const onsetFraction = rng() < 0.5 ? 0 : uniform(rng, 0.2, 0.6);
    const samples = Array.from({ length: n + 1 }, (_, i) => {
      const level = isHot && i >= n * onsetFraction ? busy : quiet;
      return {
        t: new Date(start + i * stepSeconds * 1000).toISOString(),
        value: Math.max(0, level * (1 + 0.25 * gauss(rng))),
      };
    });
    const pod = `${prefix}-${String(p)}`;
    return {
      type: isHot ? "cpu-hot" : "cpu-quiet",
      pod,
      trueSlope: 0,
      series: [resourceSeries(pod, "cpu-cores", samples)],
    };
  });
}

/** The whole labelled set: `perType` memory series of each type and CPU clusters with hot pods. */
export function labelledSet(
  seed: number,
  perType: number,
  end = Date.parse("2026-01-01T00:00:00Z"),
): Labelled[] {
  const rng = rngFor(seed);
  const out: Labelled[] = [];
  for (const type of MEMORY_TYPES)
    for (let i = 0; i < perType; i++) out.push(memorySeries(type, rng, `${type}-${String(i)}`, end));
  const clusters = Math.max(1, Math.round(perType / 4));
  for (let c = 0; c < clusters; c++) {
    const pods = 6 + Math.floor(rng() * 15);
    const hot = 1 + Math.floor(rng() * Math.floor(pods / 3));
    out.push(...cpuCluster(rng, pods, hot, `cluster${String(c)}`, end));
  }
  return out;
}
