import { test } from "node:test";
import assert from "node:assert/strict";
import { detectPlugin } from "./index.js";
import type { DaemonSetMetadata } from "./index.js";

function ds(
  partial: Partial<DaemonSetMetadata> & Pick<DaemonSetMetadata, "namespace" | "name">,
): DaemonSetMetadata {
  return { labels: {}, containerNames: ["calico-node"], ...partial };
}

const cases: {
  name: string;
  ds: DaemonSetMetadata;
  expected: { plugin: string; managedBy: string } | undefined;
}[] = [
  {
    name: "RKE1 canal",
    ds: ds({
      namespace: "kube-system",
      name: "canal",
      labels: { "k8s-app": "canal" },
      containerNames: ["calico-node", "kube-flannel"],
    }),
    expected: { plugin: "canal", managedBy: "rke1-addon" },
  },
  {
    name: "RKE1 calico",
    ds: ds({ namespace: "kube-system", name: "calico-node", labels: { "k8s-app": "calico-node" } }),
    expected: { plugin: "calico", managedBy: "rke1-addon" },
  },
  {
    name: "RKE1 calico with distribution hint",
    ds: ds({ namespace: "kube-system", name: "calico-node", distribution: "rke1" }),
    expected: { plugin: "calico", managedBy: "rke1-addon" },
  },
  {
    name: "kube-system/calico-node on a kubeadm cluster is a manifest install",
    ds: ds({ namespace: "kube-system", name: "calico-node", distribution: "other" }),
    expected: { plugin: "calico", managedBy: "manifest" },
  },
  {
    name: "RKE2 canal",
    ds: ds({
      namespace: "kube-system",
      name: "rke2-canal",
      labels: { "k8s-app": "canal" },
      containerNames: ["install-cni", "flexvol-driver", "calico-node", "kube-flannel"],
    }),
    expected: { plugin: "canal", managedBy: "rke2-canal-chart" },
  },
  {
    name: "RKE2 canal recognised by helm annotation under another name",
    ds: ds({
      namespace: "kube-system",
      name: "canal-x",
      containerNames: ["calico-node", "kube-flannel"],
      annotations: { "meta.helm.sh/release-name": "rke2-canal" },
    }),
    expected: { plugin: "canal", managedBy: "rke2-canal-chart" },
  },
  {
    name: "RKE2 calico by helm annotation",
    ds: ds({
      namespace: "calico-system",
      name: "calico-node",
      annotations: { "meta.helm.sh/release-name": "rke2-calico" },
    }),
    expected: { plugin: "calico", managedBy: "rke2-calico-chart" },
  },
  {
    name: "RKE2 calico by helm chart label",
    ds: ds({
      namespace: "calico-system",
      name: "calico-node",
      labels: { "helm.sh/chart": "rke2-calico-v3.28.100" },
    }),
    expected: { plugin: "calico", managedBy: "rke2-calico-chart" },
  },
  {
    name: "RKE2 calico by cluster distribution",
    ds: ds({ namespace: "calico-system", name: "calico-node", distribution: "rke2" }),
    expected: { plugin: "calico", managedBy: "rke2-calico-chart" },
  },
  {
    name: "RKE2 calico by Rancher's mirrored images",
    ds: ds({
      namespace: "calico-system",
      name: "calico-node",
      images: ["docker.io/rancher/mirrored-calico-node:v3.27.3"],
    }),
    expected: { plugin: "calico", managedBy: "rke2-calico-chart" },
  },
  {
    name: "plain tigera-operator",
    ds: ds({ namespace: "calico-system", name: "calico-node", images: ["quay.io/calico/node:v3.28.0"] }),
    expected: { plugin: "calico", managedBy: "tigera-operator" },
  },
  {
    name: "calico-node container in a custom namespace",
    ds: ds({ namespace: "networking", name: "my-calico", containerNames: ["install-cni", "calico-node"] }),
    expected: { plugin: "calico", managedBy: "manifest" },
  },
  {
    name: "canal by flannel container elsewhere",
    ds: ds({ namespace: "networking", name: "overlay", containerNames: ["calico-node", "kube-flannel"] }),
    expected: { plugin: "canal", managedBy: "manifest" },
  },
  {
    name: "kube-system/canal on an RKE2 cluster is a manifest install",
    ds: ds({
      namespace: "kube-system",
      name: "canal",
      containerNames: ["calico-node", "kube-flannel"],
      distribution: "rke2",
    }),
    expected: { plugin: "canal", managedBy: "manifest" },
  },
  {
    name: "kube-flannel without calico-node is flannel on its own (older kube-flannel.yml in kube-system)",
    ds: ds({ namespace: "kube-system", name: "kube-flannel-ds", containerNames: ["kube-flannel"] }),
    expected: { plugin: "flannel", managedBy: "manifest" },
  },
  {
    name: "upstream kube-flannel.yml: kube-flannel/kube-flannel-ds",
    ds: ds({
      namespace: "kube-flannel",
      name: "kube-flannel-ds",
      labels: { app: "flannel", tier: "node", "k8s-app": "flannel" },
      containerNames: ["kube-flannel"],
    }),
    expected: { plugin: "flannel", managedBy: "manifest" },
  },
  {
    name: "RKE2 cni: flannel, by the rke2-flannel helm release annotation",
    ds: ds({
      namespace: "kube-system",
      name: "kube-flannel-ds",
      labels: { app: "flannel", tier: "node", "app.kubernetes.io/managed-by": "Helm" },
      annotations: { "meta.helm.sh/release-name": "rke2-flannel" },
      containerNames: ["kube-flannel"],
    }),
    expected: { plugin: "flannel", managedBy: "rke2-flannel-chart" },
  },
  {
    name: "RKE2 cni: flannel, by the rke2-flannel chart label",
    ds: ds({
      namespace: "kube-system",
      name: "kube-flannel-ds",
      labels: { "helm.sh/chart": "rke2-flannel-v0.24.201" },
      containerNames: ["kube-flannel"],
    }),
    expected: { plugin: "flannel", managedBy: "rke2-flannel-chart" },
  },
  {
    name: "RKE1 network.plugin flannel: kube-system/kube-flannel on an RKE1 cluster is its add-on",
    ds: ds({
      namespace: "kube-system",
      name: "kube-flannel",
      containerNames: ["kube-flannel"],
      distribution: "rke1",
    }),
    expected: { plugin: "flannel", managedBy: "rke1-addon" },
  },
  {
    name: "the same name where the distribution is not known to be RKE1 is a manifest install",
    ds: ds({ namespace: "kube-system", name: "kube-flannel", containerNames: ["kube-flannel"] }),
    expected: { plugin: "flannel", managedBy: "manifest" },
  },
  {
    name: "a Canal DaemonSet with the rke2-flannel release name is still Canal (calico-node decides)",
    ds: ds({
      namespace: "kube-system",
      name: "rke2-canal",
      containerNames: ["calico-node", "kube-flannel"],
      annotations: { "meta.helm.sh/release-name": "rke2-canal" },
    }),
    expected: { plugin: "canal", managedBy: "rke2-canal-chart" },
  },
  {
    name: "named canal but without calico-node",
    ds: ds({ namespace: "kube-system", name: "canal", containerNames: ["something-else"] }),
    expected: undefined,
  },
  {
    name: "no containers",
    ds: ds({ namespace: "kube-system", name: "x", containerNames: [] }),
    expected: undefined,
  },
];

for (const c of cases) {
  void test(`detectPlugin: ${c.name}`, () => {
    const got = detectPlugin(c.ds);
    if (c.expected === undefined) {
      assert.equal(got, undefined);
      return;
    }
    assert.ok(got);
    assert.equal(got.plugin, c.expected.plugin);
    assert.equal(got.managedBy, c.expected.managedBy);
    assert.ok(got.reason.includes(`${c.ds.namespace}/${c.ds.name}`));
  });
}
