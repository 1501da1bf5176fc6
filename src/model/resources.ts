// Resource usage of calico-node containers over time, from Prometheus, the kubelet's resource
// metrics (through the apiserver's node proxy) or metrics.k8s.io. Collectors convert cumulative
// counters into rates, so analyzers only ever see gauges.

import type { Provenance } from "./provenance.js";

export type ResourceMetric =
  /** CPU in cores (rate of container_cpu_usage_seconds_total). */
  | "cpu-cores"
  /** container_memory_working_set_bytes. */
  | "memory-working-set-bytes"
  /** Container restarts so far (kube_pod_container_status_restarts_total or pod status). */
  | "restarts"
  /** OOM kills so far. */
  | "oom-kills";

export interface ResourceSample {
  /** ISO timestamp. */
  t: string;
  value: number;
}

export interface ResourceSeries {
  node: string;
  namespace: string;
  pod: string;
  container: string;
  metric: ResourceMetric;
  from: Provenance;
  /** In time order. */
  samples: ResourceSample[];
}

/**
 * Per-node chart data for reports (HTML small multiples), built from the snapshot's resource series
 * and log signals. Points are [unix seconds, value], thinned to a few hundred per series.
 */
export interface TrendChart {
  /** The advisory whose thresholds judged this chart; set only when the report covers several. */
  advisoryId?: string;
  subject: string;
  pods: string[];
  memoryMiB: [number, number][];
  cpuCores: [number, number][];
  /** Log-signature matches per hour, as the mean rate over each signature's first..last sighting. */
  signatureRate: { signature: string; from: string; to: string; perHour: number }[];
  /** Unix seconds at which the memory series restarted (a fall, a restart or an OOM kill). */
  resets: number[];
  /** The node's memory slope and CPU comparison, when they could be computed. */
  memorySlope?: { mibPerHour: number; low: number; high: number; confidence: number; leak: boolean };
  cpu?: { cores: number; peerRatio?: number; baselineRatio?: number; outlier: boolean };
}
