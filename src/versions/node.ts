// Kubelet versions and which Kubernetes distribution a node belongs to.

import type { Distribution, Fact } from "../model/index.js";

export interface KubeletVersion {
  major: number;
  minor: number;
  patch: number;
  /** Set when the version carries a distribution build suffix (+rke2rN, +k3sN). */
  distribution?: "rke2" | "k3s";
  /** The version as given (trimmed). */
  text: string;
}

const KUBELET_VERSION = /^v?(\d{1,4})\.(\d{1,4})\.(\d{1,4})(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

/** Parses "v1.30.2+rke2r1", "v1.30.3", "v1.28.10+k3s1", "v1.30.2-eks-1552ad0"; undefined otherwise. */
export function parseKubeletVersion(text: string): KubeletVersion | undefined {
  const trimmed = text.trim();
  const m = KUBELET_VERSION.exec(trimmed);
  if (m === null) return undefined;
  const build = m[5];
  let distribution: "rke2" | "k3s" | undefined;
  if (build !== undefined && /^rke2r\d+$/.test(build)) distribution = "rke2";
  else if (build !== undefined && /^k3s\d+$/.test(build)) distribution = "k3s";
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    ...(distribution === undefined ? {} : { distribution }),
    text: trimmed,
  };
}

export interface NodeMetadata {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  kubeletVersion?: string;
  containerRuntimeVersion?: string;
  osImage?: string;
}

const RKE2_ANNOTATIONS = ["rke2.io/node-args", "rke2.io/node-config-hash", "rke2.io/hostname"];
const K3S_ANNOTATIONS = ["k3s.io/node-args", "k3s.io/node-config-hash", "k3s.io/hostname"];
const RKE1_ANNOTATIONS = ["rke.cattle.io/external-ip", "rke.cattle.io/internal-ip"];
const INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type";

function fact(value: Distribution, node: NodeMetadata, what: string): Fact<Distribution> {
  return { value, from: { source: "node", ref: `node/${node.name} ${what}` } };
}

/** The first of `keys` present in `map`, else the first key with `prefix`. */
function firstKey(map: Record<string, string>, keys: string[], prefix: string): string | undefined {
  const exact = keys.find((k) => k in map);
  if (exact !== undefined) return exact;
  return Object.keys(map)
    .sort()
    .find((k) => k.startsWith(prefix));
}

function fromKubelet(node: NodeMetadata): Fact<Distribution> | undefined {
  if (node.kubeletVersion === undefined) return undefined;
  const distribution = parseKubeletVersion(node.kubeletVersion)?.distribution;
  if (distribution === undefined) return undefined;
  return fact(distribution, node, `status.nodeInfo.kubeletVersion=${node.kubeletVersion}`);
}

function fromMarkers(node: NodeMetadata): Fact<Distribution> | undefined {
  const rke2 = firstKey(node.annotations, RKE2_ANNOTATIONS, "rke2.io/");
  if (rke2 !== undefined) return fact("rke2", node, `annotation ${rke2}`);
  const rke2Label = firstKey(node.labels, [], "rke2.io/");
  if (rke2Label !== undefined) return fact("rke2", node, `label ${rke2Label}`);
  const k3s = firstKey(node.annotations, K3S_ANNOTATIONS, "k3s.io/");
  if (k3s !== undefined) return fact("k3s", node, `annotation ${k3s}`);
  const k3sLabel = firstKey(node.labels, [], "k3s.io/");
  if (k3sLabel !== undefined) return fact("k3s", node, `label ${k3sLabel}`);
  const instanceType = node.labels[INSTANCE_TYPE_LABEL];
  if (instanceType === "rke2" || instanceType === "k3s") {
    return fact(instanceType, node, `label ${INSTANCE_TYPE_LABEL}=${instanceType}`);
  }
  const rke1 = RKE1_ANNOTATIONS.find((k) => k in node.annotations);
  if (rke1 !== undefined) return fact("rke1", node, `annotation ${rke1}`);
  return undefined;
}

/**
 * Rancher puts `management.cattle.io/*` and `cattle.io/creator` markers on the nodes of every
 * cluster it manages, RKE2 and imported ones included, so they only count as RKE1 when the kubelet
 * version has no distribution suffix at all and the runtime is not k3s's containerd.
 */
function fromRancherMarkers(node: NodeMetadata): Fact<Distribution> | undefined {
  const all = { ...node.labels, ...node.annotations };
  const marker = firstKey(all, ["cattle.io/creator"], "management.cattle.io/");
  if (marker === undefined) return undefined;
  const kubelet = node.kubeletVersion === undefined ? undefined : parseKubeletVersion(node.kubeletVersion);
  if (kubelet === undefined || kubelet.text.includes("+") || kubelet.text.includes("-", 1)) return undefined;
  if (node.containerRuntimeVersion !== undefined && /-k3s/.test(node.containerRuntimeVersion))
    return undefined;
  return fact("rke1", node, `${marker} (Rancher marker, weak) with plain kubeletVersion=${kubelet.text}`);
}

/**
 * Decides RKE1, RKE2, k3s or other for one node, in this order: the kubelet version suffix
 * (+rke2rN, +k3sN), RKE2/k3s annotations and labels (rke2.io/*, k3s.io/*, instance-type), RKE1's
 * rke.cattle.io/external-ip and internal-ip annotations, then Rancher management markers on a node
 * with a plain kubelet version. The provenance names the field that decided it, or says that
 * nothing matched.
 */
export function detectNodeDistribution(node: NodeMetadata): Fact<Distribution> {
  const decided = fromKubelet(node) ?? fromMarkers(node) ?? fromRancherMarkers(node);
  if (decided !== undefined) return decided;
  const kubelet =
    node.kubeletVersion === undefined ? "no kubeletVersion" : `kubeletVersion=${node.kubeletVersion}`;
  return fact(
    "other",
    node,
    `has no RKE1, RKE2 or k3s marker (no +rke2r/+k3s kubelet suffix, no rke2.io/, k3s.io/ or rke.cattle.io/ ip annotations; ${kubelet})`,
  );
}
