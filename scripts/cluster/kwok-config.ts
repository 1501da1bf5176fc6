// kwok's --config file: which log file each node's calico pods serve, and the kubelet resource
// metrics (/metrics/resource) emulated from per-container usage.
//
// Two kwok facts shape this file:
//   - Logs rules match pods by name, and DaemonSet pod names are random. The kubelet gateway
//     (kubelet-gateway.ts) therefore rewrites /containerLogs/<ns>/<pod>/<c> to use the *node* name,
//     and there is one ClusterLogs rule per node, matched on that name.
//   - A Metric's nodeName comes from its path, so the path must hold {nodeName}; the gateway maps
//     the kubelet path /metrics/resource onto it.
import { stringify } from "yaml";
import { calicoLogFile, flannelLogFile } from "./pod-logs.js";
import { kwokStages } from "./kwok-stages.js";
import type { NodePlan } from "./node-objects.js";
import type { Scenario } from "./scenarios.js";

export const METRICS_PATH_TEMPLATE = "/metrics/nodes/{nodeName}/metrics/resource";

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/**
 * kwok's own options. The one that matters: when kwok takes a node on, it lists that node's pods,
 * and by default it pages that list — which the apiserver answers from etcd, decoding every pod in
 * the cluster for each node. Unpaged lists are served from the watch cache, indexed by node (as a
 * kubelet's own pod watch is). Paged, a new 1,000-node cluster kept the apiserver busy for ~11 s
 * after `up` returned, under whatever was measured next, and that work grows with the square of the
 * node count. A configuration in the file replaces kwok's defaults instead of merging with them, so
 * the other options are spelled out at their defaults.
 */
function kwokOptions(): Record<string, unknown> {
  return {
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    kind: "KwokConfiguration",
    options: {
      enablePodsOnNodeSyncListPager: false,
      enableDebuggingHandlers: true,
      enableProfilingHandler: true,
      podPlayStageParallelism: 4,
      nodePlayStageParallelism: 4,
      nodeLeaseParallelism: 4,
      podsOnNodeSyncParallelism: 1,
    },
  };
}

function clusterLogs(stateDir: string, scenario: Scenario, plan: NodePlan): Doc {
  return {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "ClusterLogs",
    metadata: { name: `calico-${plan.name}` },
    spec: {
      selector: { matchNamespaces: [scenario.daemonSet.namespace], matchNames: [plan.name] },
      logs: [
        { containers: ["calico-node"], logsFile: calicoLogFile(stateDir, plan.name), follow: true },
        {
          containers: ["kube-flannel"],
          logsFile: flannelLogFile(stateDir, scenario.hotFlannelLog !== undefined ? plan.name : undefined),
          follow: true,
        },
      ],
    },
  };
}

/** CEL list literal of node names, for expressions that single out the hot nodes. */
function celList(names: readonly string[]): string {
  return `[${names.map((n) => JSON.stringify(n)).join(", ")}]`;
}

// Felix stuck in the XDP retry loop burns most of a core and grows its heap; a healthy Felix
// idles at a few tens of millicores with a flat working set.
function resourceUsage(scenario: Scenario, hotNodes: readonly string[]): Doc {
  const hot = `(node.metadata.name in ${celList(hotNodes)})`;
  const stormy = scenario.hotNodeLog === "storm" && hotNodes.length > 0;
  const cpu = stormy ? `${hot} ? Quantity("870m") : Quantity("28m")` : `Quantity("28m")`;
  const memory = stormy
    ? `${hot} ? Quantity("190Mi") + Quantity("4Mi") * (pod.SinceSecond() / 60.0) : Quantity("96Mi")`
    : `Quantity("96Mi")`;
  return {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "ClusterResourceUsage",
    metadata: { name: "calico-usage" },
    spec: {
      selector: { matchNamespaces: [scenario.daemonSet.namespace] },
      usages: [
        { containers: ["calico-node"], usage: { cpu: { expression: cpu }, memory: { expression: memory } } },
        { containers: ["kube-flannel"], usage: { cpu: { value: "4m" }, memory: { value: "22Mi" } } },
      ],
    },
  };
}

const CONTAINER_LABELS = [
  { name: "container", value: "container.name" },
  { name: "namespace", value: "pod.metadata.namespace" },
  { name: "pod", value: "pod.metadata.name" },
];
const POD_LABELS = CONTAINER_LABELS.slice(1);

/** The series kubelet's /metrics/resource endpoint exposes. */
function resourceMetric(): Doc {
  return {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "Metric",
    metadata: { name: "kubelet-metrics-resource" },
    spec: {
      path: METRICS_PATH_TEMPLATE,
      metrics: [
        {
          name: "scrape_error",
          help: "1 if there was an error while getting container metrics, 0 otherwise",
          kind: "gauge",
          dimension: "node",
          value: "0",
        },
        {
          name: "node_cpu_usage_seconds_total",
          help: "Cumulative cpu time consumed by the node in core-seconds",
          kind: "counter",
          dimension: "node",
          value: 'node.CumulativeUsage("cpu")',
        },
        {
          name: "node_memory_working_set_bytes",
          help: "Current working set of the node in bytes",
          kind: "gauge",
          dimension: "node",
          value: 'node.Usage("memory")',
        },
        {
          name: "container_start_time_seconds",
          help: "Start time of the container since unix epoch in seconds",
          kind: "gauge",
          dimension: "container",
          labels: CONTAINER_LABELS,
          value: "UnixSecond(pod.metadata.creationTimestamp)",
        },
        {
          name: "container_cpu_usage_seconds_total",
          help: "Cumulative cpu time consumed by the container in core-seconds",
          kind: "counter",
          dimension: "container",
          labels: CONTAINER_LABELS,
          value: 'pod.CumulativeUsage("cpu", container.name)',
        },
        {
          name: "container_memory_working_set_bytes",
          help: "Current working set of the container in bytes",
          kind: "gauge",
          dimension: "container",
          labels: CONTAINER_LABELS,
          value: 'pod.Usage("memory", container.name)',
        },
        {
          name: "pod_cpu_usage_seconds_total",
          help: "Cumulative cpu time consumed by the pod in core-seconds",
          kind: "counter",
          dimension: "pod",
          labels: POD_LABELS,
          value: 'pod.CumulativeUsage("cpu")',
        },
        {
          name: "pod_memory_working_set_bytes",
          help: "Current working set of the pod in bytes",
          kind: "gauge",
          dimension: "pod",
          labels: POD_LABELS,
          value: 'pod.Usage("memory")',
        },
      ],
    },
  };
}

export function kwokConfig(
  stateDir: string,
  scenario: Scenario | undefined,
  plans: readonly NodePlan[],
  hotCount: number,
): string {
  const docs: object[] = [kwokOptions(), ...kwokStages(), resourceMetric()];
  if (scenario !== undefined) {
    docs.push(
      resourceUsage(
        scenario,
        plans.slice(0, hotCount).map((p) => p.name),
      ),
    );
    for (const plan of plans) docs.push(clusterLogs(stateDir, scenario, plan));
  }
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}
