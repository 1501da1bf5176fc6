// Measures the trend detection on the labelled series: per series type, precision and recall of
// the detector's call for that type's class, and for each family (memory leak, CPU outlier) the
// usual binary precision and recall of the flag.
//
// Per type T whose expected call is E (leak / no leak, outlier / not): recall = T's series called E
// / T's series; precision = T's series called E / (T's series called E + series of the opposite
// class in the same family also called E). So a leak type's precision counts the false alarms on
// all non-leak series, and a non-leak type's precision counts the leaks that were missed.

import { analyzeResources, trendSettings } from "../../src/analyze/resources.js";
import type { ResourceSymptoms } from "../../src/model/advisory.js";
import { CPU_TYPES, EXPECTED, MEMORY_TYPES, labelledSet } from "./series.js";
import type { CpuType, Labelled, MemoryType } from "./series.js";

export interface TypeQuality {
  type: MemoryType | CpuType;
  family: "memory" | "cpu";
  expected: boolean;
  n: number;
  correct: number;
  precision: number;
  recall: number;
}

export interface Quality {
  seed: number;
  perType: number;
  types: TypeQuality[];
  families: {
    family: "memory" | "cpu";
    precision: number;
    recall: number;
    tp: number;
    fp: number;
    fn: number;
  }[];
}

interface Call {
  item: Labelled;
  flagged: boolean;
}

function memoryCalls(items: Labelled[], symptoms: ResourceSymptoms): Call[] {
  const settings = trendSettings(symptoms);
  return items.map((item) => {
    const [t] = analyzeResources(item.series, "calico-node", settings);
    return { item, flagged: t?.memory?.leak === true };
  });
}

function cpuCalls(items: Labelled[], symptoms: ResourceSymptoms): Call[] {
  const settings = trendSettings(symptoms);
  const clusters = new Map<string, Labelled[]>();
  for (const item of items) {
    const key = item.pod.replace(/-\d+$/, "");
    clusters.set(key, [...(clusters.get(key) ?? []), item]);
  }
  const calls: Call[] = [];
  for (const members of clusters.values()) {
    const trends = analyzeResources(
      members.flatMap((m) => m.series),
      "calico-node",
      settings,
    );
    for (const item of members)
      calls.push({ item, flagged: trends.find((t) => t.pod === item.pod)?.cpu?.outlier === true });
  }
  return calls;
}

function ratio(a: number, b: number): number {
  return b === 0 ? 1 : a / b;
}

function typeRows(
  calls: Call[],
  types: readonly (MemoryType | CpuType)[],
  family: "memory" | "cpu",
): TypeQuality[] {
  return types.map((type) => {
    const expected = EXPECTED[type];
    const mine = calls.filter((c) => c.item.type === type);
    const correct = mine.filter((c) => c.flagged === expected).length;
    const opposite = calls.filter((c) => EXPECTED[c.item.type] !== expected && c.flagged === expected).length;
    return {
      type,
      family,
      expected,
      n: mine.length,
      correct,
      precision: ratio(correct, correct + opposite),
      recall: ratio(correct, mine.length),
    };
  });
}

function familyRow(calls: Call[], family: "memory" | "cpu"): Quality["families"][number] {
  const tp = calls.filter((c) => EXPECTED[c.item.type] && c.flagged).length;
  const fp = calls.filter((c) => !EXPECTED[c.item.type] && c.flagged).length;
  const fn = calls.filter((c) => EXPECTED[c.item.type] && !c.flagged).length;
  return { family, tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn) };
}

export function measureQuality(symptoms: ResourceSymptoms, seed: number, perType: number): Quality {
  const set = labelledSet(seed, perType);
  const memTypes: readonly string[] = MEMORY_TYPES;
  const mem = memoryCalls(
    set.filter((s) => memTypes.includes(s.type)),
    symptoms,
  );
  const cpu = cpuCalls(
    set.filter((s) => !memTypes.includes(s.type)),
    symptoms,
  );
  return {
    seed,
    perType,
    types: [...typeRows(mem, MEMORY_TYPES, "memory"), ...typeRows(cpu, CPU_TYPES, "cpu")],
    families: [familyRow(mem, "memory"), familyRow(cpu, "cpu")],
  };
}

export function formatQuality(q: Quality): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(7);
  const lines = [
    `trend detection quality (seed ${String(q.seed)}, ${String(q.perType)} memory series per type)`,
    "",
    `${"type".padEnd(20)}${"expected".padEnd(11)}${"n".padStart(5)}${"correct".padStart(9)}${"precision".padStart(11)}${"recall".padStart(9)}`,
    ...q.types.map(
      (t) =>
        `${t.type.padEnd(20)}${(t.expected ? (t.family === "memory" ? "leak" : "outlier") : "no").padEnd(11)}${String(t.n).padStart(5)}${String(t.correct).padStart(9)}${pct(t.precision).padStart(11)}${pct(t.recall).padStart(9)}`,
    ),
    "",
    ...q.families.map(
      (f) =>
        `${f.family.padEnd(8)} flag: precision ${pct(f.precision)}, recall ${pct(f.recall)} (tp ${String(f.tp)}, fp ${String(f.fp)}, fn ${String(f.fn)})`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}
