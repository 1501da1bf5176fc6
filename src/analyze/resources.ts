// Resource evidence: what calico-node's CPU and memory series say, per pod, measured against the
// advisory's thresholds. Memory: a Theil–Sen slope over segments split at restarts and level shifts,
// with Sen's interval; a leak needs the interval's lower bound above the threshold. CPU: the recent
// level against the median of the other calico-node pods and against the pod's own earliest
// quarter of the window. Resource evidence never decides a status; it is called out in the reasons.

import type { ResourceSymptoms } from "../model/advisory.js";
import type { Evidence } from "../model/finding.js";
import type { ResourceMetric, ResourceSeries } from "../model/resources.js";
import { median, splitSegments, theilSen, thin } from "./trend-stats.js";
import type { Point } from "./trend-stats.js";

/** The advisory's thresholds with the optional ones filled in (documented in docs/trends.md). */
export interface TrendSettings {
  memorySlopeMiBPerHour: number;
  slopeConfidence: number;
  cpuPeerRatio: number;
  cpuBaselineRatio: number;
  cpuMinCores: number;
  minSamples: number;
  memoryJumpMiB: number;
}

export function trendSettings(s: ResourceSymptoms): TrendSettings {
  return {
    memorySlopeMiBPerHour: s.memorySlopeMiBPerHour,
    slopeConfidence: s.slopeConfidence ?? 0.95,
    cpuPeerRatio: s.cpuPeerRatio,
    cpuBaselineRatio: s.cpuBaselineRatio ?? s.cpuPeerRatio,
    cpuMinCores: s.cpuMinCores ?? 0.1,
    minSamples: s.minSamples ?? 6,
    memoryJumpMiB: s.memoryJumpMiB ?? 16,
  };
}

export interface MemoryTrend {
  slope: number;
  low: number;
  high: number;
  confidence: number;
  samples: number;
  segments: number;
  /** Falls (restarts, OOM kills) and rises (level shifts) that split the series. */
  resets: number;
  shifts: number;
  /** Unix seconds of each reset, for charts. */
  resetTimes: number[];
  spanHours: number;
  lastMiB: number;
  leak: boolean;
}

export interface CpuTrend {
  cores: number;
  peers: number;
  peerMedianCores?: number;
  peerRatio?: number;
  baselineCores?: number;
  baselineRatio?: number;
  outlier: boolean;
}

export interface PodTrend {
  node: string;
  namespace: string;
  pod: string;
  container: string;
  sources: string[];
  memory?: MemoryTrend;
  cpu?: CpuTrend;
  restarts?: number;
  oomKills?: number;
  /** Why a metric gave no trend (too few samples). */
  notes: string[];
}

const MIB = 1024 * 1024;
/** Quantile of the window that counts as "recent" and as "baseline" for CPU. */
const QUARTER = 0.25;
/** Cap on the points a slope is computed from (the pairwise slopes grow with its square). */
const MAX_SLOPE_POINTS = 400;
/** A jump must also stand out from the typical step by this many robust sigmas. */
const JUMP_SIGMAS = 6;
/** Denominator floor for ratios, so an idle peer set does not divide by zero. */
const CORE_FLOOR = 0.001;

interface PodSeries {
  key: string;
  node: string;
  namespace: string;
  pod: string;
  container: string;
  sources: Set<string>;
  metrics: Partial<Record<ResourceMetric, { ms: number; value: number }[]>>;
}

function groupSeries(series: readonly ResourceSeries[], container: string): PodSeries[] {
  const byPod = new Map<string, PodSeries>();
  for (const s of series) {
    if (s.container !== container) continue;
    const key = `${s.namespace}/${s.pod}/${s.container}`;
    let g = byPod.get(key);
    if (!g) {
      g = {
        key,
        node: s.node,
        namespace: s.namespace,
        pod: s.pod,
        container,
        sources: new Set(),
        metrics: {},
      };
      byPod.set(key, g);
    }
    if (g.node === "" && s.node !== "") g.node = s.node;
    g.sources.add(`${s.from.source} ${s.from.ref}`);
    const list = (g.metrics[s.metric] ??= []);
    for (const sample of s.samples) {
      const ms = Date.parse(sample.t);
      if (Number.isFinite(ms) && Number.isFinite(sample.value)) list.push({ ms, value: sample.value });
    }
  }
  for (const g of byPod.values()) {
    for (const list of Object.values(g.metrics)) {
      list.sort((a, b) => a.ms - b.ms);
      // Two sources may hold the same instant; keep one.
      for (let i = list.length - 1; i > 0; i--) if (list[i]?.ms === list[i - 1]?.ms) list.splice(i, 1);
    }
  }
  return [...byPod.values()];
}

/** Sum of the increases of a cumulative count (a fall means a new container: count from zero). */
function increases(list: readonly { ms: number; value: number }[] | undefined): {
  total: number;
  times: number[];
} {
  let total = 0;
  const times: number[] = [];
  if (!list) return { total, times };
  for (let i = 1; i < list.length; i++) {
    const a = list[i - 1];
    const b = list[i];
    if (!a || !b) continue;
    const d = b.value >= a.value ? b.value - a.value : b.value;
    if (d > 0) {
      total += d;
      times.push(b.ms);
    }
  }
  return { total, times };
}

function memoryTrend(
  list: readonly { ms: number; value: number }[],
  restartTimes: readonly number[],
  s: TrendSettings,
): MemoryTrend | undefined {
  const kept = thin(list, MAX_SLOPE_POINTS);
  const first = kept[0];
  const last = kept.at(-1);
  if (!first || !last) return undefined;
  const points: Point[] = kept.map((p) => ({ x: (p.ms - first.ms) / 3_600_000, y: p.value / MIB }));
  // A known restart starts a segment at the first sample after it.
  const breaks = restartTimes.map((t) => kept.findIndex((p) => p.ms >= t)).filter((i) => i > 0);
  const split = splitSegments(points, { breaks, jumpSigmas: JUMP_SIGMAS, minJump: s.memoryJumpMiB });
  const est = theilSen(split.segments, s.slopeConfidence);
  if (!est) return undefined;
  return {
    slope: est.slope,
    low: est.low,
    high: est.high,
    confidence: est.confidence,
    samples: list.length,
    segments: split.segments.length,
    resets: split.resets.length,
    shifts: split.shifts.length,
    resetTimes: split.resets.map((i) => Math.round((kept[i]?.ms ?? 0) / 1000)),
    spanHours: (last.ms - first.ms) / 3_600_000,
    lastMiB: last.value / MIB,
    leak: est.low >= s.memorySlopeMiBPerHour,
  };
}

interface CpuLevels {
  recent: number;
  baseline?: number;
}

function cpuLevels(list: readonly { ms: number; value: number }[]): CpuLevels | undefined {
  const first = list[0];
  const last = list.at(-1);
  if (!first || !last) return undefined;
  const span = last.ms - first.ms;
  const recent = list.filter((p) => p.ms >= last.ms - span * QUARTER).map((p) => p.value);
  const early = list.filter((p) => p.ms <= first.ms + span * QUARTER).map((p) => p.value);
  return {
    recent: median(recent),
    ...(early.length >= 3 && span > 0 ? { baseline: median(early) } : {}),
  };
}

function cpuTrend(own: CpuLevels, peers: readonly number[], s: TrendSettings): CpuTrend {
  const peerMedian = peers.length > 0 ? median(peers) : undefined;
  const peerRatio = peerMedian !== undefined ? own.recent / Math.max(peerMedian, CORE_FLOOR) : undefined;
  const baselineRatio =
    own.baseline !== undefined ? own.recent / Math.max(own.baseline, CORE_FLOOR) : undefined;
  const busy = own.recent >= s.cpuMinCores;
  const outlier =
    busy &&
    ((peerRatio !== undefined && peerRatio >= s.cpuPeerRatio) ||
      (baselineRatio !== undefined && baselineRatio >= s.cpuBaselineRatio));
  return {
    cores: own.recent,
    peers: peers.length,
    ...(peerMedian !== undefined ? { peerMedianCores: peerMedian } : {}),
    ...(peerRatio !== undefined ? { peerRatio } : {}),
    ...(own.baseline !== undefined ? { baselineCores: own.baseline } : {}),
    ...(baselineRatio !== undefined ? { baselineRatio } : {}),
    outlier,
  };
}

/** Trends for every pod of `container` in the series; CPU peers are the other pods of the same container. */
export function analyzeResources(
  series: readonly ResourceSeries[],
  container: string,
  settings: TrendSettings,
): PodTrend[] {
  const groups = groupSeries(series, container);
  const levels = new Map<string, CpuLevels>();
  for (const g of groups) {
    const cpu = g.metrics["cpu-cores"];
    if (cpu && cpu.length >= settings.minSamples) {
      const l = cpuLevels(cpu);
      if (l) levels.set(g.key, l);
    }
  }
  return groups.map((g) => {
    const notes: string[] = [];
    const restarts = increases(g.metrics.restarts);
    const ooms = increases(g.metrics["oom-kills"]);
    const mem = g.metrics["memory-working-set-bytes"] ?? [];
    let memory: MemoryTrend | undefined;
    if (mem.length >= settings.minSamples) memory = memoryTrend(mem, restarts.times, settings);
    else if (mem.length > 0)
      notes.push(`only ${mem.length} memory sample(s); ${settings.minSamples} needed for a slope`);
    const own = levels.get(g.key);
    const peers = [...levels.entries()].filter(([k]) => k !== g.key).map(([, l]) => l.recent);
    const cpuCount = g.metrics["cpu-cores"]?.length ?? 0;
    if (!own && cpuCount > 0) notes.push(`only ${cpuCount} CPU sample(s); ${settings.minSamples} needed`);
    return {
      node: g.node,
      namespace: g.namespace,
      pod: g.pod,
      container,
      sources: [...g.sources].sort(),
      ...(memory ? { memory } : {}),
      ...(own ? { cpu: cpuTrend(own, peers, settings) } : {}),
      ...(g.metrics.restarts ? { restarts: restarts.total } : {}),
      ...(g.metrics["oom-kills"] ? { oomKills: ooms.total } : {}),
      notes,
    };
  });
}

function fixed(n: number, digits = 1): string {
  return (Math.round(n * 10 ** digits) / 10 ** digits).toFixed(digits);
}

function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

function spanText(hours: number): string {
  return hours >= 1 ? `${fixed(hours)} h` : `${Math.max(1, Math.round(hours * 60))} min`;
}

function memoryEvidence(t: PodTrend, m: MemoryTrend, s: TrendSettings): Evidence {
  const pct = Math.round(m.confidence * 100);
  const interval = `${pct}% interval ${fixed(m.low)} to ${fixed(m.high)}`;
  const split =
    m.resets + m.shifts > 0
      ? `, split at ${m.resets} reset(s)${m.shifts > 0 ? ` and ${m.shifts} level shift(s)` : ""}`
      : "";
  const verdict = m.leak
    ? `a leak: even the interval's lower bound is at or above the advisory's ${s.memorySlopeMiBPerHour} MiB/h`
    : `not a leak by the advisory's ${s.memorySlopeMiBPerHour} MiB/h (the interval's lower bound is below it)`;
  return {
    kind: "symptom",
    message: `${t.container} memory (${t.namespace}/${t.pod}) changes ${fixed(m.slope)} MiB/h (${interval}) over ${spanText(m.spanHours)}, ${m.samples} samples${split}, now ${fixed(m.lastMiB, 0)} MiB — ${verdict}`,
    nodes: [t.node],
    source: t.sources.join(", "),
    data: {
      resource: "memory",
      role: m.leak ? "resource-symptom" : "context",
      outlier: m.leak,
      pod: `${t.namespace}/${t.pod}`,
      slopeMiBPerHour: round(m.slope, 2),
      slopeLowMiBPerHour: round(m.low, 2),
      slopeHighMiBPerHour: round(m.high, 2),
      confidence: m.confidence,
      thresholdMiBPerHour: s.memorySlopeMiBPerHour,
      samples: m.samples,
      spanHours: round(m.spanHours, 3),
      segments: m.segments,
      resets: m.resets,
      levelShifts: m.shifts,
      workingSetMiB: round(m.lastMiB, 1),
    },
  };
}

function cpuEvidence(t: PodTrend, c: CpuTrend, s: TrendSettings): Evidence {
  const parts: string[] = [];
  if (c.peerRatio !== undefined && c.peerMedianCores !== undefined)
    parts.push(
      `${fixed(c.peerRatio)}× the median of ${c.peers} other ${t.container} pod(s) (${fixed(c.peerMedianCores, 3)})`,
    );
  if (c.baselineRatio !== undefined && c.baselineCores !== undefined)
    parts.push(`${fixed(c.baselineRatio)}× its own early-window level (${fixed(c.baselineCores, 3)})`);
  const compared = parts.length > 0 ? parts.join(" and ") : "nothing to compare with";
  const verdict = c.outlier
    ? `an outlier by the advisory's ${s.cpuPeerRatio}× (peers) / ${s.cpuBaselineRatio}× (baseline)`
    : c.cores < s.cpuMinCores
      ? `not an outlier (below ${s.cpuMinCores} cores)`
      : `not an outlier by the advisory's ${s.cpuPeerRatio}× / ${s.cpuBaselineRatio}×`;
  return {
    kind: "symptom",
    message: `${t.container} CPU (${t.namespace}/${t.pod}) is ${fixed(c.cores, 3)} cores, ${compared} — ${verdict}`,
    nodes: [t.node],
    source: t.sources.join(", "),
    data: {
      resource: "cpu",
      role: c.outlier ? "resource-symptom" : "context",
      outlier: c.outlier,
      pod: `${t.namespace}/${t.pod}`,
      cpuCores: round(c.cores, 4),
      peers: c.peers,
      ...(c.peerMedianCores !== undefined ? { peerMedianCores: round(c.peerMedianCores, 4) } : {}),
      ...(c.peerRatio !== undefined ? { cpuPeerRatio: round(c.peerRatio, 2) } : {}),
      ...(c.baselineCores !== undefined ? { baselineCores: round(c.baselineCores, 4) } : {}),
      ...(c.baselineRatio !== undefined ? { cpuBaselineRatio: round(c.baselineRatio, 2) } : {}),
      thresholdPeerRatio: s.cpuPeerRatio,
      thresholdBaselineRatio: s.cpuBaselineRatio,
    },
  };
}

function restartEvidence(t: PodTrend): Evidence | undefined {
  const restarts = t.restarts ?? 0;
  const ooms = t.oomKills ?? 0;
  const resets = t.memory?.resets ?? 0;
  if (restarts === 0 && ooms === 0 && resets === 0) return undefined;
  const counted =
    t.restarts !== undefined ? `restarted ${restarts} time(s)` : `memory reset ${resets} time(s)`;
  const oom = ooms > 0 ? `, ${ooms} OOM kill(s)` : "";
  return {
    kind: "symptom",
    message: `${t.container} (${t.namespace}/${t.pod}) ${counted}${oom} in the window`,
    nodes: [t.node],
    source: t.sources.join(", "),
    data: {
      resource: "restarts",
      role: "context",
      outlier: false,
      pod: `${t.namespace}/${t.pod}`,
      ...(t.restarts !== undefined ? { restarts } : {}),
      ...(t.oomKills !== undefined ? { oomKills: ooms } : {}),
      memoryResets: resets,
    },
  };
}

export interface NodeResourceResult {
  evidence: Evidence[];
  /** Sentences for the verdict's reasons when something stands out. */
  callouts: string[];
}

/** Evidence and call-outs for one node from the trends of the pods that ran there. */
export function nodeResourceEvidence(
  node: string,
  trends: readonly PodTrend[],
  s: TrendSettings,
): NodeResourceResult {
  const evidence: Evidence[] = [];
  const callouts: string[] = [];
  for (const t of trends) {
    const mine: PodTrend = { ...t, node };
    if (t.memory) {
      evidence.push(memoryEvidence(mine, t.memory, s));
      if (t.memory.leak)
        callouts.push(
          `calico-node memory grows ${fixed(t.memory.slope)} MiB/h (${Math.round(t.memory.confidence * 100)}% interval ${fixed(t.memory.low)} to ${fixed(t.memory.high)}), above the advisory's ${s.memorySlopeMiBPerHour} MiB/h`,
        );
    }
    if (t.cpu) {
      evidence.push(cpuEvidence(mine, t.cpu, s));
      if (t.cpu.outlier) {
        const ratio = t.cpu.peerRatio ?? t.cpu.baselineRatio ?? 0;
        const against = t.cpu.peerRatio !== undefined ? "its peers' median" : "its own earlier level";
        callouts.push(`calico-node CPU is ${fixed(t.cpu.cores, 2)} cores, ${fixed(ratio)}× ${against}`);
      }
    }
    const r = restartEvidence(mine);
    if (r) evidence.push(r);
    for (const note of t.notes)
      evidence.push({
        kind: "symptom",
        message: `${t.container} (${t.namespace}/${t.pod}): ${note}, so no trend was computed`,
        nodes: [node],
        data: { resource: "samples", role: "context", outlier: false, pod: `${t.namespace}/${t.pod}` },
      });
  }
  return { evidence, callouts };
}

/** The trends that belong to a node: series labelled with it, or of the calico-node pod placed on it. */
export function trendsForNode(
  trends: readonly PodTrend[],
  node: string,
  pod: { namespace: string; name: string } | undefined,
): PodTrend[] {
  return trends.filter(
    (t) => t.node === node || (pod !== undefined && t.pod === pod.name && t.namespace === pod.namespace),
  );
}

/** The reason sentence for a node with resource call-outs, worded for its status. */
export function calloutReason(status: string, callouts: readonly string[]): string | undefined {
  if (callouts.length === 0) return undefined;
  const what = callouts.join("; ");
  if (status === "affected") return `${what} — the resource cost of the retry loop`;
  if (status === "at-risk")
    return `resource symptom: ${what}; the log signature was not seen, so this alone does not make the node affected — read this node's calico-node log`;
  return `note: ${what} (resource evidence alone does not change this status)`;
}
