// What a generated bundle looks like, as plain data. Tests derive variations by copying an example
// spec and changing fields (a node's log kind, a Felix env var, a missing extra file) or by
// replacing whole files through `files`.

import type { FelixLogKind } from "../fixtures/felix-log.js";
import type { FlannelLogKind } from "../fixtures/flannel-log.js";

export type NodeRole = "controlplane" | "etcd" | "worker";

export interface NodeSpec {
  name: string;
  roles: NodeRole[];
  internalIP: string;
  externalIP?: string;
  osImage: string;
  kernelVersion: string;
  /** What this node's calico-node container logged (scripts/fixtures/felix-log.ts kinds). */
  calicoLog: FelixLogKind;
  /** What a Canal or flannel pod's kube-flannel container logged beyond its start-up (absent: quiet). */
  flannelLog?: FlannelLogKind;
  /** spec.providerID (absent: what the distribution sets, rke2://NAME on RKE2). */
  providerID?: string;
  /** Labels added to (or replacing) the distribution's node labels. */
  labels?: Record<string, string>;
}

/** One node's entry of node-facts.json, as the node agent writes it (src/agent/node-facts.ts). */
export interface NodeFactsSpec {
  node: string;
  nicDriver?: { value: string; source: string };
  udpInCsumErrors?: { first: number; last: number; source: string };
  kernelLog?: { lines: string[]; source: string };
  unavailable?: Record<string, string>;
}

/**
 * rke1-canal: kube-system/canal from the RKE1 add-on; rke2-canal: kube-system/rke2-canal from the
 * rke2-canal chart; rke2-calico: calico-system/calico-node from the tigera-operator that the
 * rke2-calico chart installs; rke2-flannel: kube-system/kube-flannel-ds from the rke2-flannel chart
 * (`cni: flannel`); kube-flannel: kube-flannel/kube-flannel-ds from flannel's own kube-flannel.yml
 * on an RKE2 cluster started with `cni: none`. The two flannel flavors run no Calico: their spec
 * leaves calicoVersion and Calico's images empty, `images.cni` is the CNI plugins image of the
 * install-cni-plugin init container and `images.flannel` flanneld's.
 */
export type CniFlavor = "rke1-canal" | "rke2-canal" | "rke2-calico" | "rke2-flannel" | "kube-flannel";

export interface CalicoImages {
  node: string;
  cni: string;
  flexvol: string;
  kubeControllers: string;
  /** Canal only. */
  flannel?: string;
  /** Operator installs only. */
  typha?: string;
  operator?: string;
}

export interface CniSpec {
  flavor: CniFlavor;
  /** Calico version the logs are generated for (chooses Felix source line numbers). */
  calicoVersion: string;
  images: CalicoImages;
  /**
   * FELIX_* env on the calico-node container on top of what the flavor's template renders; null
   * removes a template entry. The effective FELIX_LOGSEVERITYSCREEN also decides which log lines
   * appear.
   */
  felixEnv: Record<string, string | null>;
  /** Helm chart version for chart-managed flavors, e.g. "v3.28.0-build2024062503". */
  chartVersion?: string;
  /** Felix logs its feature detection at start-up with this ChecksumOffloadBroken (absent: no line). */
  checksumOffloadBroken?: boolean;
}

export type FelixSpecValue = string | number | boolean;

export interface FelixConfigurationSpec {
  /** "default" or "node.<nodename>". */
  name: string;
  spec: Record<string, FelixSpecValue>;
  /** Helm release that renders it (rke2-calico), if any. */
  helmRelease?: string;
}

export interface BundleSpec {
  name: string;
  /** Seeds every generated uid, hash and log. */
  seed: number;
  distribution: "rke1" | "rke2";
  /** RKE1 version name ("v1.30.3-rancher1-1") or RKE2 release ("v1.30.3+rke2r1"). */
  kubernetesVersion: string;
  /** Adds cattle-system with Rancher's agents. */
  rancherManaged: boolean;
  /** When the cluster (nodes, add-ons) was created. */
  createdAt: string;
  /** When the current calico-node containers started; their logs begin here. */
  logStart: string;
  /** How much log each calico-node container has; the dump is taken shortly after. */
  logSeconds: number;
  /** Seconds between two retry cycles where a node's log is a storm. */
  stormIntervalSeconds: number;
  /** RKE2 eBPF installs run without kube-proxy. */
  kubeProxyDisabled?: boolean;
  nodes: NodeSpec[];
  cni: CniSpec;
  /** `kubectl get felixconfigurations.crd.projectcalico.org -o json`; absent: file omitted. */
  felixConfigurations?: FelixConfigurationSpec[];
  /** ClusterInformation `default`; absent: clusterinformations.json omitted. */
  clusterInformation?: { calicoVersion: string; clusterType: string };
  /** RKE CLI cluster.yml text written verbatim; absent: omitted. */
  clusterYml?: string;
  /**
   * ConfigMaps saved with `kubectl get configmap -n NS NAME -o json` into NS/configmaps.json (the
   * CNI's named ones only); absent: no configmaps.json.
   */
  configMaps?: { namespace: string; name: string; data: Record<string, string> }[];
  /** `kubectl get ippools.crd.projectcalico.org -o json`; absent: ippools.json omitted. */
  ipPools?: { name: string; spec: Record<string, FelixSpecValue> }[];
  /** The node agent's node-facts.json; absent: omitted. */
  nodeFacts?: { readAt: string; nodes: NodeFactsSpec[] };
  /**
   * Applied after rendering, keyed by bundle-relative path with "/" separators: a string or bytes
   * replaces (or adds) the file, null removes it. How bad-input tests break a good bundle.
   */
  files?: Record<string, string | Uint8Array | null>;
}
