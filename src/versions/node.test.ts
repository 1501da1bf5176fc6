import { test } from "node:test";
import assert from "node:assert/strict";
import { detectNodeDistribution, parseKubeletVersion } from "./index.js";
import type { NodeMetadata } from "./index.js";

const kubeletCases: [string, ReturnType<typeof parseKubeletVersion>][] = [
  ["v1.30.2+rke2r1", { major: 1, minor: 30, patch: 2, distribution: "rke2", text: "v1.30.2+rke2r1" }],
  ["v1.27.16+rke2r2", { major: 1, minor: 27, patch: 16, distribution: "rke2", text: "v1.27.16+rke2r2" }],
  ["v1.30.3", { major: 1, minor: 30, patch: 3, text: "v1.30.3" }],
  ["v1.28.10+k3s1", { major: 1, minor: 28, patch: 10, distribution: "k3s", text: "v1.28.10+k3s1" }],
  ["1.29.7", { major: 1, minor: 29, patch: 7, text: "1.29.7" }],
  ["v1.30.2-eks-1552ad0", { major: 1, minor: 30, patch: 2, text: "v1.30.2-eks-1552ad0" }],
  [" v1.30.3 ", { major: 1, minor: 30, patch: 3, text: "v1.30.3" }],
  ["v1.30.3+custom", { major: 1, minor: 30, patch: 3, text: "v1.30.3+custom" }],
  ["v1.30", undefined],
  ["", undefined],
  ["rke2", undefined],
  ["v1.30.2+rke2r1 extra", undefined],
];

for (const [text, expected] of kubeletCases) {
  void test(`parseKubeletVersion(${JSON.stringify(text)})`, () => {
    assert.deepEqual(parseKubeletVersion(text), expected);
  });
}

function node(partial: Partial<NodeMetadata>): NodeMetadata {
  return { name: "n1", labels: {}, annotations: {}, ...partial };
}

const distributionCases: { name: string; node: NodeMetadata; value: string; ref: RegExp }[] = [
  {
    name: "RKE2 kubelet suffix",
    node: node({ kubeletVersion: "v1.30.2+rke2r1" }),
    value: "rke2",
    ref: /kubeletVersion=v1\.30\.2\+rke2r1/,
  },
  {
    name: "k3s kubelet suffix",
    node: node({ kubeletVersion: "v1.28.10+k3s1" }),
    value: "k3s",
    ref: /\+k3s1/,
  },
  {
    name: "RKE2 annotations",
    node: node({ annotations: { "rke2.io/node-args": "[]", "rke2.io/hostname": "n1" } }),
    value: "rke2",
    ref: /annotation rke2\.io\/node-args/,
  },
  {
    name: "RKE2 node-config-hash only",
    node: node({ annotations: { "rke2.io/node-config-hash": "X" } }),
    value: "rke2",
    ref: /rke2\.io\/node-config-hash/,
  },
  {
    name: "k3s annotations",
    node: node({ annotations: { "k3s.io/hostname": "n1" } }),
    value: "k3s",
    ref: /k3s\.io\/hostname/,
  },
  {
    name: "instance-type label",
    node: node({ labels: { "node.kubernetes.io/instance-type": "rke2" } }),
    value: "rke2",
    ref: /instance-type=rke2/,
  },
  {
    name: "RKE1 ip annotations",
    node: node({
      kubeletVersion: "v1.30.3",
      annotations: { "rke.cattle.io/external-ip": "10.0.0.1", "rke.cattle.io/internal-ip": "10.0.0.1" },
    }),
    value: "rke1",
    ref: /annotation rke\.cattle\.io\/external-ip/,
  },
  {
    name: "RKE1 internal-ip only",
    node: node({ annotations: { "rke.cattle.io/internal-ip": "10.0.0.1" } }),
    value: "rke1",
    ref: /internal-ip/,
  },
  {
    name: "kubelet suffix beats RKE1 annotations",
    node: node({ kubeletVersion: "v1.30.4+rke2r1", annotations: { "rke.cattle.io/external-ip": "1.2.3.4" } }),
    value: "rke2",
    ref: /kubeletVersion/,
  },
  {
    name: "Rancher-managed RKE1 markers with plain kubelet and docker",
    node: node({
      kubeletVersion: "v1.29.7",
      containerRuntimeVersion: "docker://24.0.9",
      annotations: { "management.cattle.io/pod-limits": "{}" },
    }),
    value: "rke1",
    ref: /management\.cattle\.io\/pod-limits \(Rancher marker, weak\)/,
  },
  {
    name: "cattle.io/creator label",
    node: node({ kubeletVersion: "v1.30.3", labels: { "cattle.io/creator": "norman" } }),
    value: "rke1",
    ref: /cattle\.io\/creator/,
  },
  {
    name: "Rancher markers on an EKS node are not RKE1",
    node: node({
      kubeletVersion: "v1.30.2-eks-1552ad0",
      annotations: { "management.cattle.io/pod-requests": "{}" },
    }),
    value: "other",
    ref: /no RKE1, RKE2 or k3s marker/,
  },
  {
    name: "Rancher markers with k3s containerd are not RKE1",
    node: node({
      kubeletVersion: "v1.30.2",
      containerRuntimeVersion: "containerd://1.7.17-k3s1",
      annotations: { "management.cattle.io/pod-requests": "{}" },
    }),
    value: "other",
    ref: /kubeletVersion=v1\.30\.2/,
  },
  {
    name: "plain kubeadm node",
    node: node({ kubeletVersion: "v1.30.3", labels: { "kubernetes.io/hostname": "n1" } }),
    value: "other",
    ref: /nothing|no RKE1/,
  },
  { name: "no data at all", node: node({}), value: "other", ref: /no kubeletVersion/ },
];

for (const c of distributionCases) {
  void test(`detectNodeDistribution: ${c.name}`, () => {
    const f = detectNodeDistribution(c.node);
    assert.equal(f.value, c.value);
    assert.equal(f.from.source, "node");
    assert.match(f.from.ref, /^node\/n1 /);
    assert.match(f.from.ref, c.ref);
  });
}
