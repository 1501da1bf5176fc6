// The Prometheus collector: range queries over the window for calico-node CPU (rate of the
// cumulative counter, so analyzers see cores), working-set memory, restarts and OOM kills, turned
// into ResourceSeries. Works with cAdvisor's label set (container, pod, namespace, node or
// instance), the older container_name/pod_name labels, and the kubelet's /metrics/resource names.
// Anything that cannot be read is a Gap, never an empty pass.

import type { Gap } from "../../model/provenance.js";
import type { ResourceMetric, ResourceSeries } from "../../model/resources.js";
import { PrometheusError, queryRange } from "./client.js";
import type { MatrixSeries, PrometheusTarget } from "./client.js";

export interface PrometheusCollectOptions {
  target: PrometheusTarget;
  container: string;
  /** Window length in seconds, ending at `now`. */
  windowSeconds: number;
  now: Date;
  /** Points per series to ask for (the step follows from it); default 240. */
  points?: number;
}

export interface PrometheusResult {
  series: ResourceSeries[];
  gaps: Gap[];
  /** The queries that ran, for docs and debugging. */
  queries: string[];
}

/** Two label sets: current cAdvisor/kubelet names first, then the pre-1.16 cAdvisor names. */
const LABEL_SETS = [
  { container: "container", pod: "pod" },
  { container: "container_name", pod: "pod_name" },
] as const;

interface MetricQuery {
  metric: ResourceMetric;
  name: string;
  /** Builds the PromQL for a label set, container value and rate range. */
  promql: (labels: (typeof LABEL_SETS)[number], container: string, range: string) => string;
  /** Whether missing data is a gap that matters (CPU and memory) or an optional extra. */
  core: boolean;
  /** kube-state-metrics' instance is its own pod, never the node. */
  instanceIsNode: boolean;
}

function by(labels: (typeof LABEL_SETS)[number]): string {
  return `namespace, ${labels.pod}, ${labels.container}, node, instance`;
}

const QUERIES: readonly MetricQuery[] = [
  {
    metric: "cpu-cores",
    name: "container_cpu_usage_seconds_total",
    // max, not sum: the same container is often scraped twice (cAdvisor and /metrics/resource).
    promql: (l, c, r) =>
      `max by (${by(l)}) (rate(container_cpu_usage_seconds_total{${l.container}="${c}"}[${r}]))`,
    core: true,
    instanceIsNode: true,
  },
  {
    metric: "memory-working-set-bytes",
    name: "container_memory_working_set_bytes",
    promql: (l, c) => `max by (${by(l)}) (container_memory_working_set_bytes{${l.container}="${c}"})`,
    core: true,
    instanceIsNode: true,
  },
  {
    metric: "restarts",
    name: "kube_pod_container_status_restarts_total",
    promql: (l, c) =>
      `max by (namespace, ${l.pod}, ${l.container}, node) (kube_pod_container_status_restarts_total{${l.container}="${c}"})`,
    core: false,
    instanceIsNode: false,
  },
  {
    metric: "oom-kills",
    name: "container_oom_events_total",
    promql: (l, c) => `max by (${by(l)}) (container_oom_events_total{${l.container}="${c}"})`,
    core: false,
    instanceIsNode: true,
  },
];

function nodeOf(labels: Record<string, string>, instanceIsNode: boolean): string {
  const node = labels.node;
  if (node !== undefined && node !== "") return node;
  const instance = instanceIsNode ? labels.instance : undefined;
  if (instance === undefined || instance === "") return "";
  // host:port (and [v6]:port) → host
  return instance.replace(/^\[(.*)\](:\d+)?$/, "$1").replace(/^([^:]+):\d+$/, "$1");
}

function toSeries(
  m: MatrixSeries,
  q: MetricQuery,
  labels: (typeof LABEL_SETS)[number],
  ref: string,
): ResourceSeries | undefined {
  const pod = m.metric[labels.pod];
  const container = m.metric[labels.container];
  if (pod === undefined || container === undefined) return undefined;
  const samples = m.values
    .map(([sec, text]) => ({ t: new Date(sec * 1000).toISOString(), value: Number(text) }))
    .filter((s) => Number.isFinite(s.value));
  return {
    node: nodeOf(m.metric, q.instanceIsNode),
    namespace: m.metric.namespace ?? "",
    pod,
    container,
    metric: q.metric,
    from: { source: "prometheus", ref },
    samples,
  };
}

/** "24h" or "90m": a window for messages. */
export function describeWindow(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : `${Math.round(seconds / 60)}m`;
}

interface Range {
  start: number;
  end: number;
  stepSeconds: number;
  rate: string;
}

/** One metric: the current label set first, the legacy one only when the first finds nothing. */
async function runQuery(
  opts: PrometheusCollectOptions,
  q: MetricQuery,
  range: Range,
  out: PrometheusResult,
): Promise<number> {
  for (const labels of LABEL_SETS) {
    const promql = q.promql(labels, opts.container, range.rate);
    out.queries.push(promql);
    const matrix = await queryRange(opts.target, promql, range);
    const found = matrix
      .map((m) => toSeries(m, q, labels, `${opts.target.url} ${q.name}`))
      .filter((s): s is ResourceSeries => s !== undefined && s.samples.length > 0);
    out.series.push(...found);
    if (found.length > 0) return found.length;
  }
  return 0;
}

/** Runs every query and gathers series and gaps; an unreachable server is one gap, not four. */
export async function collectPrometheus(opts: PrometheusCollectOptions): Promise<PrometheusResult> {
  const end = Math.floor(opts.now.getTime() / 1000);
  const stepSeconds = Math.max(15, Math.ceil(opts.windowSeconds / (opts.points ?? 240)));
  const range: Range = {
    start: end - opts.windowSeconds,
    end,
    stepSeconds,
    rate: `${String(Math.max(300, 2 * stepSeconds))}s`,
  };
  const out: PrometheusResult = { series: [], gaps: [], queries: [] };
  for (const q of QUERIES) {
    const gap = (reason: string): Gap => ({
      check: q.core ? "resource-usage" : "resource-restarts",
      reason,
      ...(q.core ? {} : { optional: true }),
    });
    let found: number;
    try {
      found = await runQuery(opts, q, range, out);
    } catch (e) {
      if (!(e instanceof PrometheusError)) throw e;
      out.gaps.push(gap(`Prometheus ${e.message}`));
      if (q.core) return out;
      continue;
    }
    if (found === 0)
      out.gaps.push(
        gap(
          `Prometheus ${opts.target.url} has no ${q.name} series for container ${opts.container} in the last ${describeWindow(opts.windowSeconds)}`,
        ),
      );
  }
  return out;
}
