// The Calico side of a scenario: projectcalico.org CRDs, the FelixConfiguration and
// ClusterInformation objects, and the calico-node/canal DaemonSet whose pods the real DaemonSet
// controller creates and kube-scheduler binds onto the KWOK nodes.
import type { KubeObject } from "./api-client.js";
import type { Container, Scenario } from "./scenarios.js";

const CALICO_GROUP = "crd.projectcalico.org";

// Permissive schemas: the harness stores what real clusters store, it does not validate Calico's API.
function calicoCrd(kind: string, plural: string): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${CALICO_GROUP}` },
    spec: {
      group: CALICO_GROUP,
      scope: "Cluster",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          },
        },
      ],
    },
  };
}

export function calicoCrds(): KubeObject[] {
  return [
    calicoCrd("FelixConfiguration", "felixconfigurations"),
    calicoCrd("ClusterInformation", "clusterinformations"),
    calicoCrd("IPPool", "ippools"),
  ];
}

export function crdNames(): string[] {
  return calicoCrds().map((c) => c.metadata.name);
}

/**
 * The scenario's Calico objects and CNI ConfigMaps. A flannel-only scenario has only its ConfigMaps,
 * after the namespaces they live in (kube-flannel is not there before the DaemonSet's objects).
 */
export function calicoObjects(scenario: Scenario): KubeObject[] {
  const clusterType = scenario.daemonSet.name === "calico-node" ? "k8s,operator,bgp" : "k8s,canal";
  const pools = (scenario.ipPools ?? []).map((p): KubeObject => ({
    apiVersion: `${CALICO_GROUP}/v1`,
    kind: "IPPool",
    metadata: { name: p.name },
    spec: p.spec,
  }));
  const maps = (scenario.configMaps ?? []).map((c): KubeObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: c.name, namespace: c.namespace },
    data: c.data,
  }));
  if (scenario.withoutCalico === true) {
    const namespaces = [...new Set((scenario.configMaps ?? []).map((c) => c.namespace))]
      .filter((n) => n !== "kube-system")
      .map((name): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
    return [...namespaces, ...maps];
  }
  return [
    ...pools,
    ...maps,
    {
      apiVersion: `${CALICO_GROUP}/v1`,
      kind: "FelixConfiguration",
      metadata: { name: "default" },
      spec: scenario.felixConfiguration,
    },
    {
      apiVersion: `${CALICO_GROUP}/v1`,
      kind: "ClusterInformation",
      metadata: { name: "default" },
      spec: {
        calicoVersion: scenario.calicoVersion,
        clusterGUID: "6a1f9e0e3b7c4f0c9d3b2a1e5f4d7c8b",
        clusterType,
        datastoreReady: true,
      },
    },
  ];
}

function containerSpec(c: Container, isNode: boolean): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    name: c.name,
    image: c.image,
    env: Object.entries(c.env).map(([name, value]) => ({ name, value })),
  };
  if (isNode) {
    spec["securityContext"] = { privileged: true };
    spec["resources"] = { requests: { cpu: "250m" } };
  }
  return spec;
}

/** Namespace (when not kube-system), ServiceAccount and the DaemonSet itself. */
export function daemonSetObjects(scenario: Scenario, nodeCount: number): KubeObject[] {
  const ds = scenario.daemonSet;
  const objects: KubeObject[] = [];
  if (ds.namespace !== "kube-system") {
    objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: ds.namespace } });
  }
  objects.push({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: ds.serviceAccount, namespace: ds.namespace },
  });
  objects.push({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: ds.name, namespace: ds.namespace, labels: ds.labels },
    spec: {
      selector: { matchLabels: ds.labels },
      updateStrategy: {
        type: "RollingUpdate",
        // Real templates use 1; on large simulated clusters that makes a rollout thousands of
        // sequential steps, so scale runs use a percentage.
        rollingUpdate: { maxUnavailable: nodeCount <= 50 ? 1 : "10%" },
      },
      template: {
        metadata: { labels: ds.labels },
        spec: {
          hostNetwork: true,
          priorityClassName: "system-node-critical",
          serviceAccountName: ds.serviceAccount,
          terminationGracePeriodSeconds: 0,
          nodeSelector: { "kubernetes.io/os": "linux" },
          // As in the canal/calico manifests: run on every node, tainted control planes included.
          tolerations: [
            { effect: "NoSchedule", operator: "Exists" },
            { key: "CriticalAddonsOnly", operator: "Exists" },
            { effect: "NoExecute", operator: "Exists" },
          ],
          initContainers: ds.initContainers.map((c) => containerSpec(c, false)),
          containers: ds.containers.map((c) => containerSpec(c, c.name === "calico-node")),
        },
      },
    },
  });
  return objects;
}
