// calico-node CPU and memory, without Prometheus: metrics.k8s.io when the cluster serves it, else
// each kubelet's resource metrics through the apiserver's node proxy (Prometheus text). The
// kubelet's CPU is a cumulative counter; two scrapes become a rate, so Snapshot.resources only
// ever holds gauges ("cpu-cores", "memory-working-set-bytes").

import type { Gap } from "../../model/provenance.js";
import type { ResourceMetric, ResourceSample, ResourceSeries } from "../../model/resources.js";
import type { KubeClient, Obj } from "../../kube/client.js";
import { runPool } from "./pool.js";

export interface MetricTarget {
  node: string;
  namespace: string;
  pod: string;
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the exposition carried a timestamp. */
  timestampMs?: number;
}

const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(v: string): string {
  return v.replace(/\\(["\\n])/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

/** Parses the Prometheus text exposition, keeping only the metric names asked for. */
export function parsePrometheusText(text: string, wanted: ReadonlySet<string>): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    const nameEnd = brace !== -1 && (space === -1 || brace < space) ? brace : space;
    if (nameEnd <= 0) continue;
    const name = line.slice(0, nameEnd);
    if (!wanted.has(name)) continue;
    const labels: Record<string, string> = {};
    let rest = line.slice(nameEnd);
    if (rest.startsWith("{")) {
      const close = rest.lastIndexOf("}");
      if (close === -1) continue;
      for (const m of rest.slice(1, close).matchAll(LABEL)) labels[m[1] ?? ""] = unescapeLabel(m[2] ?? "");
      rest = rest.slice(close + 1);
    }
    const [valueText, stampText] = rest.trim().split(/\s+/);
    const value = Number(valueText);
    if (valueText === undefined || Number.isNaN(value)) continue;
    const stamp = stampText !== undefined ? Number(stampText) : Number.NaN;
    out.push({ name, labels, value, ...(Number.isFinite(stamp) ? { timestampMs: stamp } : {}) });
  }
  return out;
}

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("250m", "123456n", "200Mi", "1.5Gi", "1e3") as a number. */
export function parseQuantity(text: string): number | undefined {
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]{0,2})$/.exec(text.trim());
  if (!m) return undefined;
  const factor = SUFFIX[m[2] ?? ""];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}

/** One scrape's reading for one container. */
export interface Reading {
  t: number;
  cpuSecondsTotal?: number;
  cpuCores?: number;
  memoryBytes?: number;
}

/** Readings from a kubelet's /metrics/resource text for the calico-node containers of the targets. */
export function readingsFromKubelet(
  text: string,
  container: string,
  targets: readonly MetricTarget[],
  scrapedAt: number,
): Map<string, Reading> {
  const wanted = new Set(targets.map((t) => `${t.namespace}/${t.pod}`));
  const out = new Map<string, Reading>();
  const samples = parsePrometheusText(
    text,
    new Set(["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"]),
  );
  for (const s of samples) {
    const key = `${s.labels.namespace ?? ""}/${s.labels.pod ?? ""}`;
    if (s.labels.container !== container || !wanted.has(key)) continue;
    const r = out.get(key) ?? { t: s.timestampMs ?? scrapedAt };
    if (s.name === "container_cpu_usage_seconds_total") r.cpuSecondsTotal = s.value;
    else r.memoryBytes = s.value;
    out.set(key, r);
  }
  return out;
}

/** Readings from a metrics.k8s.io PodMetricsList. */
export function readingsFromMetricsApi(items: readonly Obj[], container: string): Map<string, Reading> {
  const out = new Map<string, Reading>();
  for (const item of items) {
    const meta = (item.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    if (typeof meta.name !== "string" || typeof meta.namespace !== "string") continue;
    const t = typeof item.timestamp === "string" ? Date.parse(item.timestamp) : Number.NaN;
    const containers = Array.isArray(item.containers) ? (item.containers as Obj[]) : [];
    const c = containers.find((x) => x.name === container);
    if (!c || Number.isNaN(t)) continue;
    const usage = (c.usage ?? {}) as { cpu?: unknown; memory?: unknown };
    const cpu = typeof usage.cpu === "string" ? parseQuantity(usage.cpu) : undefined;
    const mem = typeof usage.memory === "string" ? parseQuantity(usage.memory) : undefined;
    out.set(`${meta.namespace}/${meta.name}`, {
      t,
      ...(cpu !== undefined ? { cpuCores: cpu } : {}),
      ...(mem !== undefined ? { memoryBytes: mem } : {}),
    });
  }
  return out;
}

/**
 * Turns readings per round into series: gauges as they are, cumulative CPU as the rate between
 * consecutive readings (stamped at the later one). A counter that went backwards (a restart) yields
 * no sample for that interval.
 */
export function seriesFromReadings(
  target: MetricTarget,
  container: string,
  readings: readonly Reading[],
  from: ResourceSeries["from"],
): ResourceSeries[] {
  const cpu: ResourceSample[] = [];
  const mem: ResourceSample[] = [];
  const sorted = [...readings].sort((a, b) => a.t - b.t);
  sorted.forEach((r, i) => {
    const t = new Date(r.t).toISOString();
    if (r.memoryBytes !== undefined) mem.push({ t, value: r.memoryBytes });
    if (r.cpuCores !== undefined) cpu.push({ t, value: r.cpuCores });
    const prev = sorted[i - 1];
    if (r.cpuSecondsTotal !== undefined && prev?.cpuSecondsTotal !== undefined && r.t > prev.t) {
      const delta = r.cpuSecondsTotal - prev.cpuSecondsTotal;
      if (delta >= 0) cpu.push({ t, value: delta / ((r.t - prev.t) / 1000) });
    }
  });
  const make = (metric: ResourceMetric, samples: ResourceSample[]): ResourceSeries => ({
    node: target.node,
    namespace: target.namespace,
    pod: target.pod,
    container,
    metric,
    from,
    samples,
  });
  return [
    ...(cpu.length > 0 ? [make("cpu-cores", cpu)] : []),
    ...(mem.length > 0 ? [make("memory-working-set-bytes", mem)] : []),
  ];
}

export interface ResourceOptions {
  container: string;
  concurrency: number;
  /** Scrape rounds (at least 2 for the kubelet's cumulative CPU). */
  rounds: number;
  /** Wanted spacing between round starts. */
  intervalMs: number;
  /** Awaited before the last round starts (the default scan takes its second scrape after the logs). */
  beforeLastRound?: Promise<void>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface ResourceResult {
  series: ResourceSeries[];
  gaps: Gap[];
  source: "metrics.k8s.io" | "kubelet" | "none";
}

async function metricsApiServed(client: KubeClient): Promise<boolean> {
  const r = await client.getJson("/apis/metrics.k8s.io/v1beta1");
  if (!r.ok) return false;
  const resources = Array.isArray(r.value.resources) ? (r.value.resources as Obj[]) : [];
  return resources.some((x) => x.name === "pods");
}

type RoundFn = (round: number) => Promise<{ readings: Map<string, Reading>; gaps: Gap[] }>;

function metricsApiRound(client: KubeClient, targets: readonly MetricTarget[], container: string): RoundFn {
  const namespaces = [...new Set(targets.map((t) => t.namespace))].sort();
  return async () => {
    const readings = new Map<string, Reading>();
    const gaps: Gap[] = [];
    for (const ns of namespaces) {
      const r = await client.list(`/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(ns)}/pods`);
      if (!r.ok) {
        gaps.push({ check: "resources", reason: r.problem, subject: ns, optional: true });
        continue;
      }
      for (const [k, v] of readingsFromMetricsApi(r.value, container)) readings.set(k, v);
    }
    return { readings, gaps };
  };
}

function kubeletRound(client: KubeClient, targets: readonly MetricTarget[], opts: ResourceOptions): RoundFn {
  const byNode = new Map<string, MetricTarget[]>();
  for (const t of targets) byNode.set(t.node, [...(byNode.get(t.node) ?? []), t]);
  return async () => {
    const readings = new Map<string, Reading>();
    const gaps: Gap[] = [];
    await runPool([...byNode.entries()], opts.concurrency, async ([node, list]) => {
      const r = await client.getText(`/api/v1/nodes/${encodeURIComponent(node)}/proxy/metrics/resource`);
      if (!r.ok) {
        gaps.push({ check: "resources", reason: r.problem, subject: node, optional: true });
        return;
      }
      for (const [k, v] of readingsFromKubelet(r.value, opts.container, list, opts.now())) readings.set(k, v);
    });
    return { readings, gaps };
  };
}

/** Scrapes `rounds` times and builds one CPU and one memory series per calico-node container. */
export async function collectResources(
  client: KubeClient,
  targets: readonly MetricTarget[],
  opts: ResourceOptions,
): Promise<ResourceResult> {
  if (targets.length === 0) return { series: [], gaps: [], source: "none" };
  const viaApi = await metricsApiServed(client);
  const round = viaApi
    ? metricsApiRound(client, targets, opts.container)
    : kubeletRound(client, targets, opts);
  const perTarget = new Map<string, Reading[]>();
  const gapsBySubject = new Map<string, Gap>();
  const start = opts.now();
  for (let i = 0; i < opts.rounds; i++) {
    if (i === opts.rounds - 1 && opts.beforeLastRound) await opts.beforeLastRound;
    const wait = start + i * opts.intervalMs - opts.now();
    if (i > 0 && wait > 0) await opts.sleep(wait);
    const r = await round(i);
    for (const [k, v] of r.readings) perTarget.set(k, [...(perTarget.get(k) ?? []), v]);
    for (const g of r.gaps) gapsBySubject.set(g.subject ?? "", g);
  }
  const from: ResourceSeries["from"] = viaApi
    ? { source: "node", ref: "metrics.k8s.io/v1beta1 PodMetrics" }
    : { source: "node", ref: "kubelet /metrics/resource via /api/v1/nodes/NAME/proxy" };
  const series = targets.flatMap((t) =>
    seriesFromReadings(t, opts.container, perTarget.get(`${t.namespace}/${t.pod}`) ?? [], {
      source: from.source,
      ref: viaApi
        ? `${from.ref} ${t.namespace}/${t.pod}`
        : `kubelet /metrics/resource of node ${t.node} (via apiserver node proxy)`,
    }),
  );
  return { series, gaps: [...gapsBySubject.values()], source: viaApi ? "metrics.k8s.io" : "kubelet" };
}
