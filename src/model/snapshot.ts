// The Snapshot is everything collectors learned about a target, as plain data. Analyzers read only
// this; nothing downstream touches the API or the disk.

import type { Fact, Gap } from "./provenance.js";
import type { CalicoVersion, ImageRef } from "./image.js";
import type { LogSourceResult } from "./logs.js";
import type { ResourceSeries } from "./resources.js";

export type Distribution = "rke1" | "rke2" | "k3s" | "other";
export type CalicoPlugin = "calico" | "canal";
/** The CNI a discovered DaemonSet runs: a Calico flavour, or flannel on its own (no Felix). */
export type CniPlugin = CalicoPlugin | "flannel";

export interface Target {
  kind: "bundle" | "live" | "logs";
  /** Bundle directory, log file list, or kube context name. */
  name: string;
}

export interface NodeFacts {
  name: string;
  osImage?: string;
  kernelVersion?: string;
  kubeletVersion?: string;
  containerRuntimeVersion?: string;
  distribution: Fact<Distribution>;
  /** spec.providerID (e.g. vsphere://…), when set. */
  providerID?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerFacts {
  name: string;
  image: Fact<ImageRef>;
  /** Env vars with literal values; valueFrom references are recorded with value undefined. */
  env: Record<string, Fact<string | undefined>>;
}

export interface PodFacts {
  namespace: string;
  name: string;
  nodeName?: string;
  phase?: string;
  ready?: boolean;
  /** Restarts of the install's main container (calico-node; kube-flannel on a flannel install). */
  restartCount: number;
  /** Image actually running per container (from status when present, else spec). */
  images: Record<string, Fact<ImageRef>>;
  /** status.startTime: gives a year to log stamps that carry none (klog). */
  startTime?: string;
}

/** One Calico, Canal or flannel DaemonSet. */
export interface CalicoInstall {
  plugin: CniPlugin;
  namespace: string;
  name: string;
  /** Who renders and reconciles it: decides which remediation is durable. */
  managedBy:
    | "rke1-addon"
    | "rke2-canal-chart"
    | "rke2-calico-chart"
    | "rke2-flannel-chart"
    | "tigera-operator"
    | "manifest";
  /** The calico-node container of the pod template; absent on a flannel install (no Felix there). */
  calicoNode?: ContainerFacts;
  /** The template's other containers by name (e.g. Canal's kube-flannel); absent when none. */
  containers?: Record<string, ContainerFacts>;
  version?: Fact<CalicoVersion>;
  pods: PodFacts[];
}

export interface FelixConfigurationFacts {
  /** "default" or "node.<nodename>". */
  name: string;
  spec: Record<string, unknown>;
  from: Fact<unknown>["from"];
}

/** One Kubernetes object an advisory condition reads (a named ConfigMap, an IPPool). */
export interface ObjectFacts {
  namespace: string;
  name: string;
  /** The object without its metadata (data, spec). */
  body: Record<string, unknown>;
  /** Where it was read, e.g. "DIR/kube-system/configmaps.json ConfigMap kube-system/canal-config". */
  ref: string;
}

/** A list of objects, or why it could not be read. */
export interface ObjectList {
  items: ObjectFacts[];
  /** What was asked for and not found, e.g. "kube-system/canal-config"; absent objects are not gaps. */
  where: string;
}

/** Where a node's agent facts came from when not from the agent's own node-facts.json. */
export interface AgentFactsSource {
  kind: "prometheus";
  /** The Prometheus base URL. */
  url: string;
  /** The series read, by metric name (e.g. cnidoctor_node_udp_in_csum_errors_total). */
  series: string[];
  /** The scan window the series were read over (ISO times). */
  window: { start: string; end: string };
}

/**
 * Why a node has no agent facts at all, as the collector could tell: its agent is not scraped by
 * that Prometheus, or it is scraped but does not read node facts (no --host-root).
 */
export type AgentFactsMissing = "agent-not-scraped" | "node-facts-disabled";

/**
 * What the node agent read on one node (written by the agent, carried in a bundle's
 * node-facts.json, or read back from the agent's series in Prometheus). A fact it could not read
 * is in `unavailable` with why.
 */
export interface AgentNodeFacts {
  node: string;
  /** When the facts were read (for Prometheus: the time of the newest sample used). */
  readAt: string;
  /** The driver of the NIC that carries the default route, e.g. virtio_net. */
  nicDriver?: { value: string; interface?: string; source: string };
  /**
   * Udp InCsumErrors of /proc/net/snmp: the first and last reading (the agent's two readings, or
   * the first and last sample in the scan window). `increase` counts across counter resets (a
   * reboot restarts it at 0); absent, the increase is last - first.
   */
  udpInCsumErrors?: { first: number; last: number; increase?: number; resets?: number; source: string };
  /**
   * Kernel log lines the agent kept because a kernel-log condition's pattern matched them. From
   * Prometheus there are no lines, only `matches`: how many records matched each kernel-log
   * condition (by condition id) in the window.
   */
  kernelLog?: { lines: string[]; matches?: Record<string, number>; source: string };
  unavailable: Record<string, string>;
  /** Absent: the agent's own node-facts.json. */
  source?: AgentFactsSource;
  /** Set when nothing at all was read for this node, with why. */
  missing?: AgentFactsMissing;
}

export interface RkeClusterConfig {
  path: string;
  kubernetesVersion?: string;
  networkPlugin?: string;
  /** system_images entries that are set, keyed by the yaml key (calico_node, canal_node, ...). */
  systemImages: Record<string, string>;
  /** True when the file is Rancher's cluster spec (rancher_kubernetes_engine_config) rather than RKE CLI's. */
  rancherManaged: boolean;
}

/** How Rancher came to manage the cluster, as the cluster shows it. */
export type RancherProvisioning = "provisioned" | "imported" | "unknown";

/** What the cluster shows of the Rancher that manages it. */
export interface RancherFacts {
  /** Rancher server version, from the cattle-cluster-agent (CATTLE_SERVER_VERSION or its image tag). */
  version?: Fact<string>;
  /**
   * provisioned: nodes carry Rancher provisioning's markers (rke.cattle.io/machine label, Cluster
   * API cluster.x-k8s.io/* annotations); imported: only a Rancher agent, no node carries them;
   * unknown: it cannot be told (nodes unreadable, or a distribution those markers do not cover).
   */
  provisioning: Fact<RancherProvisioning>;
}

export interface Snapshot {
  target: Target;
  collectedAt: string;
  distribution?: Fact<Distribution>;
  rancherManaged?: Fact<boolean>;
  /** Present when Rancher manages the cluster (rancherManaged true). */
  rancher?: RancherFacts;
  kubernetesVersion?: Fact<string>;
  nodes: NodeFacts[];
  installs: CalicoInstall[];
  /** Undefined when the FelixConfiguration list could not be read (a Gap says why). */
  felixConfigurations?: FelixConfigurationFacts[];
  /** ClusterInformation `default` spec.calicoVersion, a second version source. */
  clusterCalicoVersion?: Fact<string>;
  rkeConfig?: RkeClusterConfig;
  /**
   * Objects advisory conditions read, by resource (configmaps, ippools). A resource that is absent
   * was not read (a Gap says why); one that was read but holds nothing has items [].
   */
  objects?: Partial<Record<"configmaps" | "ippools", ObjectList>>;
  /** What node agents read, per node; absent when no agent data came with the target. */
  agentFacts?: AgentNodeFacts[];
  logs: LogSourceResult[];
  /** calico-node CPU/memory series; undefined when no resource source was asked for or readable. */
  resources?: ResourceSeries[];
  gaps: Gap[];
}
