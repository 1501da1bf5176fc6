// Chart data for reports: per node, calico-node memory and CPU over time (thinned so a sawtooth
// keeps its teeth) and the log-signature rate, plus the slope and CPU comparison the diagnosis
// computed. Built only when the snapshot carries resource series.

import type { Advisory } from "../model/advisory.js";
import type { ResourceMetric, ResourceSeries, TrendChart } from "../model/resources.js";
import type { Snapshot } from "../model/snapshot.js";
import { analyzeResources, trendSettings, trendsForNode } from "./resources.js";
import type { PodTrend } from "./resources.js";
import { nodeSubjects } from "./subjects.js";
import type { NodeSubject } from "./subjects.js";
import { summarizeSymptoms } from "./symptoms.js";

const BUCKETS = 120;
const MIB = 1024 * 1024;

/** Keeps the lowest and highest point of each of `buckets` equal time slices, in time order. */
export function envelope(points: readonly [number, number][], buckets: number): [number, number][] {
  if (points.length <= buckets * 2) return [...points];
  const first = points[0]?.[0] ?? 0;
  const span = (points.at(-1)?.[0] ?? first) - first || 1;
  const out: [number, number][] = [];
  let bucket = -1;
  let lo: [number, number] | undefined;
  let hi: [number, number] | undefined;
  const flush = (): void => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else out.push(...(lo[0] < hi[0] ? [lo, hi] : [hi, lo]));
  };
  for (const p of points) {
    const b = Math.min(buckets - 1, Math.floor(((p[0] - first) / span) * buckets));
    if (b !== bucket) {
      flush();
      bucket = b;
      lo = p;
      hi = p;
      continue;
    }
    if (lo && p[1] < lo[1]) lo = p;
    if (hi && p[1] > hi[1]) hi = p;
  }
  flush();
  return out;
}

function pointsOf(
  series: readonly ResourceSeries[],
  metric: ResourceMetric,
  scale: number,
): [number, number][] {
  const pts: [number, number][] = [];
  for (const s of series) {
    if (s.metric !== metric) continue;
    for (const x of s.samples) {
      const ms = Date.parse(x.t);
      if (Number.isFinite(ms) && Number.isFinite(x.value))
        pts.push([Math.round(ms / 1000), Math.round((x.value / scale) * 1000) / 1000]);
    }
  }
  return envelope(
    pts.sort((a, b) => a[0] - b[0]),
    BUCKETS,
  );
}

function chartFor(
  advisory: Advisory,
  subject: NodeSubject,
  trends: readonly PodTrend[],
  series: readonly ResourceSeries[],
): TrendChart | undefined {
  const pod = subject.pod ? { namespace: subject.pod.namespace, name: subject.pod.name } : undefined;
  const mine = trendsForNode(trends, subject.name, pod);
  if (mine.length === 0) return undefined;
  const keys = new Set(mine.map((t) => `${t.namespace}/${t.pod}`));
  const own = series.filter(
    (s) => s.container === advisory.component.container && keys.has(`${s.namespace}/${s.pod}`),
  );
  const sym = summarizeSymptoms(advisory.id, subject.logs);
  const memory = mine.find((t) => t.memory)?.memory;
  const cpu = mine.find((t) => t.cpu)?.cpu;
  return {
    subject: subject.name,
    pods: [...keys].sort(),
    memoryMiB: pointsOf(own, "memory-working-set-bytes", MIB),
    cpuCores: pointsOf(own, "cpu-cores", 1),
    signatureRate: [...sym.symptom, ...sym.corroborating]
      .filter((s) => s.firstSeen !== undefined && s.lastSeen !== undefined && s.ratePerHour !== undefined)
      .map((s) => ({
        signature: s.signatureId,
        from: s.firstSeen ?? "",
        to: s.lastSeen ?? "",
        perHour: Math.round((s.ratePerHour ?? 0) * 10) / 10,
      })),
    resets: mine.flatMap((t) => t.memory?.resetTimes ?? []),
    ...(memory
      ? {
          memorySlope: {
            mibPerHour: memory.slope,
            low: memory.low,
            high: memory.high,
            confidence: memory.confidence,
            leak: memory.leak,
          },
        }
      : {}),
    ...(cpu
      ? {
          cpu: {
            cores: cpu.cores,
            ...(cpu.peerRatio !== undefined ? { peerRatio: cpu.peerRatio } : {}),
            ...(cpu.baselineRatio !== undefined ? { baselineRatio: cpu.baselineRatio } : {}),
            outlier: cpu.outlier,
          },
        }
      : {}),
  };
}

/**
 * One chart per node that has resource series, for every advisory that draws charts (its
 * thresholds flag leaks and CPU outliers). With several advisories each chart names its own.
 */
export function trendCharts(snapshot: Snapshot, advisories: readonly Advisory[]): TrendChart[] | undefined {
  const series = snapshot.resources;
  const charting = advisories.filter((a) => a.presentation?.charts !== false);
  if (series === undefined || series.length === 0 || charting.length === 0 || snapshot.target.kind === "logs")
    return undefined;
  const charts: TrendChart[] = [];
  for (const advisory of charting) {
    const container = advisory.component.container;
    const trends = analyzeResources(series, container, trendSettings(advisory.symptoms));
    for (const subject of nodeSubjects(snapshot, container)) {
      const c = chartFor(advisory, subject, trends, series);
      if (c) charts.push(advisories.length > 1 ? { advisoryId: advisory.id, ...c } : c);
    }
  }
  return charts;
}
