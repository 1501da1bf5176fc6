// Renders a BundleSpec into the files `kubectl cluster-info dump --all-namespaces
// --output-directory DIR` writes, plus the optional extras cnidoctor reads when present
// (felixconfigurations.json, clusterinformations.json, cluster.yml).

import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ClusterParts } from "./common.js";
import { hashHex, uid } from "./ids.js";
import type {
  ContainerDef,
  EventDef,
  ExpandedWorkload,
  Json,
  JsonObject,
  NodeInfo,
  RenderContext,
  WorkloadDef,
} from "./k8s.js";
import { event, expandWorkload, kubectlJson, list, service, sortKeys } from "./k8s.js";
import { rke1Parts } from "./rke1.js";
import { rke2Parts } from "./rke2.js";
import type { BundleSpec, NodeSpec } from "./spec.js";

export type {
  BundleSpec,
  CalicoImages,
  CniFlavor,
  CniSpec,
  FelixConfigurationSpec,
  NodeRole,
  NodeSpec,
} from "./spec.js";

/** Bundle-relative path ("/"-separated) to file content. */
export type BundleFiles = Map<string, string | Uint8Array>;

/** The per-namespace files of a cluster-info dump, with the list kind each holds. */
export const NAMESPACE_FILES: readonly { file: string; kind: string; apiVersion: string }[] = [
  { file: "events.json", kind: "EventList", apiVersion: "v1" },
  { file: "replication-controllers.json", kind: "ReplicationControllerList", apiVersion: "v1" },
  { file: "services.json", kind: "ServiceList", apiVersion: "v1" },
  { file: "daemonsets.json", kind: "DaemonSetList", apiVersion: "apps/v1" },
  { file: "deployments.json", kind: "DeploymentList", apiVersion: "apps/v1" },
  { file: "replicasets.json", kind: "ReplicaSetList", apiVersion: "apps/v1" },
  { file: "pods.json", kind: "PodList", apiVersion: "v1" },
];

function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function dumpTime(spec: BundleSpec): string {
  return addSeconds(spec.logStart, spec.logSeconds + 20);
}

function kubeletVersion(spec: BundleSpec): string {
  return spec.distribution === "rke1"
    ? spec.kubernetesVersion.replace(/-rancher\d+-\d+$/, "")
    : spec.kubernetesVersion;
}

function nodeConditions(spec: BundleSpec, at: string): JsonObject[] {
  const calico = spec.cni.flavor === "rke2-calico";
  const cond = (
    type: string,
    status: string,
    reason: string,
    message: string,
    since: string,
  ): JsonObject => ({
    type,
    status,
    lastHeartbeatTime: type === "NetworkUnavailable" ? since : at,
    lastTransitionTime: since,
    reason,
    message,
  });
  return [
    cond(
      "NetworkUnavailable",
      "False",
      calico ? "CalicoIsUp" : "FlannelIsUp",
      calico ? "Calico is running on this node" : "Flannel is running on this node",
      spec.logStart,
    ),
    cond(
      "MemoryPressure",
      "False",
      "KubeletHasSufficientMemory",
      "kubelet has sufficient memory available",
      spec.createdAt,
    ),
    cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", spec.createdAt),
    cond(
      "PIDPressure",
      "False",
      "KubeletHasSufficientPID",
      "kubelet has sufficient PID available",
      spec.createdAt,
    ),
    cond("Ready", "True", "KubeletReady", "kubelet is posting ready status", addSeconds(spec.createdAt, 40)),
  ];
}

function nodeObject(spec: BundleSpec, parts: ClusterParts, ctx: RenderContext, node: NodeSpec): JsonObject {
  const info = ctx.nodes.get(node.name);
  const index = info?.index ?? 0;
  const resources = {
    cpu: "4",
    "ephemeral-storage": "101430960Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: "16372436Ki",
    pods: "110",
  };
  const version = kubeletVersion(spec);
  const id = hashHex(spec.seed, "machine", node.name);
  return {
    metadata: {
      name: node.name,
      uid: info?.uid ?? "",
      resourceVersion: ctx.nextResourceVersion(),
      creationTimestamp: spec.createdAt,
      labels: { ...parts.nodeLabels(node), ...(node.labels ?? {}) },
      annotations: parts.nodeAnnotations(node),
    },
    spec: {
      podCIDR: `10.42.${String(index)}.0/24`,
      podCIDRs: [`10.42.${String(index)}.0/24`],
      providerID: node.providerID ?? (spec.distribution === "rke2" ? `rke2://${node.name}` : undefined),
      taints: parts.nodeTaints(node),
    },
    status: {
      capacity: resources,
      allocatable: { ...resources, "ephemeral-storage": "98674758127", memory: "16270036Ki" },
      conditions: nodeConditions(spec, dumpTime(spec)),
      addresses: [
        { type: "InternalIP", address: node.internalIP },
        ...(node.externalIP ? [{ type: "ExternalIP", address: node.externalIP }] : []),
        { type: "Hostname", address: node.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: id.slice(0, 32),
        systemUUID: uid(spec.seed, "system", node.name).toUpperCase(),
        bootID: uid(spec.seed, "boot", node.name),
        kernelVersion: node.kernelVersion,
        osImage: node.osImage,
        containerRuntimeVersion:
          spec.distribution === "rke1" ? "docker://24.0.9" : "containerd://1.7.17-k3s1",
        kubeletVersion: version,
        kubeProxyVersion: version,
        operatingSystem: "linux",
        architecture: "amd64",
      },
    },
  };
}

function partsFor(spec: BundleSpec): ClusterParts {
  if (spec.distribution === "rke1") {
    if (spec.cni.flavor !== "rke1-canal")
      throw new Error(`RKE1 bundles support the rke1-canal flavor, not ${spec.cni.flavor}`);
    return rke1Parts(spec);
  }
  if (spec.cni.flavor === "rke1-canal")
    throw new Error("RKE2 bundles need the rke2-canal, rke2-calico, rke2-flannel or kube-flannel flavor");
  return rke2Parts(spec);
}

function logBlock(namespace: string, pod: string, container: ContainerDef, node: string): string {
  const what = `container ${container.name} of pod ${namespace}/${pod}`;
  return `==== START logs for ${what} ====\n${container.log(node)}==== END logs for ${what} ====\n`;
}

function podLogs(w: WorkloadDef, expanded: ExpandedWorkload): Map<string, string> {
  const out = new Map<string, string>();
  w.nodes.forEach((node, i) => {
    const pod = expanded.podNames[i];
    if (pod === undefined) return;
    const containers = [...(w.initContainers ?? []), ...w.containers];
    out.set(pod, containers.map((c) => logBlock(w.namespace, pod, c, node)).join(""));
  });
  return out;
}

/** Rollout events of the calico-node pods, which were (re)created when their logs begin. */
function calicoRolloutEvents(spec: BundleSpec, w: WorkloadDef, expanded: ExpandedWorkload): EventDef[] {
  const calicoNode = w.containers.find((c) => c.name === "calico-node");
  if (w.kind !== "DaemonSet" || !calicoNode) return [];
  const events: EventDef[] = [];
  w.nodes.forEach((node, i) => {
    const pod = expanded.podNames[i] ?? "";
    const at = addSeconds(spec.logStart, -4);
    const field = { kind: "Pod", name: pod, apiVersion: "v1", fieldPath: "spec.containers{calico-node}" };
    events.push(
      {
        namespace: w.namespace,
        involved: { kind: "DaemonSet", name: w.name, apiVersion: "apps/v1" },
        reason: "SuccessfulCreate",
        message: `Created pod: ${pod}`,
        type: "Normal",
        component: "daemonset-controller",
        at,
      },
      {
        namespace: w.namespace,
        involved: field,
        reason: "Started",
        message: "Started container calico-node",
        type: "Normal",
        component: "kubelet",
        host: node,
        at: spec.logStart,
      },
    );
  });
  return events;
}

interface NamespaceContent {
  events: Json[];
  services: Json[];
  daemonSets: Json[];
  deployments: Json[];
  replicaSets: Json[];
  pods: Json[];
  logs: Map<string, string>;
}

function emptyNamespace(): NamespaceContent {
  return {
    events: [],
    services: [],
    daemonSets: [],
    deployments: [],
    replicaSets: [],
    pods: [],
    logs: new Map(),
  };
}

function byName(a: Json, b: Json): number {
  const name = (x: Json): string => {
    if (x === null || typeof x !== "object" || Array.isArray(x)) return "";
    const m = x.metadata;
    return m && typeof m === "object" && !Array.isArray(m) && typeof m.name === "string" ? m.name : "";
  };
  return name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0;
}

function calicoExtras(spec: BundleSpec, ctx: RenderContext, files: BundleFiles): void {
  if (spec.felixConfigurations) {
    const items = spec.felixConfigurations.map((fc): Json => ({
      apiVersion: "crd.projectcalico.org/v1",
      kind: "FelixConfiguration",
      metadata: {
        annotations: fc.helmRelease
          ? { "meta.helm.sh/release-name": fc.helmRelease, "meta.helm.sh/release-namespace": "kube-system" }
          : { "projectcalico.org/metadata": '{"creationTimestamp":null}' },
        creationTimestamp: spec.createdAt,
        generation: 1,
        labels: fc.helmRelease ? { "app.kubernetes.io/managed-by": "Helm" } : undefined,
        name: fc.name,
        resourceVersion: ctx.nextResourceVersion(),
        uid: uid(spec.seed, "FelixConfiguration", fc.name),
      },
      spec: fc.spec,
    }));
    files.set(
      "felixconfigurations.json",
      kubectlJson(sortKeys({ apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } })),
    );
  }
  if (spec.clusterInformation) {
    const ci = spec.clusterInformation;
    const item: Json = {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "ClusterInformation",
      metadata: {
        annotations: { "projectcalico.org/metadata": '{"creationTimestamp":null}' },
        creationTimestamp: spec.createdAt,
        generation: 1,
        name: "default",
        resourceVersion: ctx.nextResourceVersion(),
        uid: uid(spec.seed, "ClusterInformation", "default"),
      },
      spec: {
        calicoVersion: ci.calicoVersion,
        clusterGUID: hashHex(spec.seed, "guid").slice(0, 32),
        clusterType: ci.clusterType,
        datastoreReady: true,
      },
    };
    files.set(
      "clusterinformations.json",
      kubectlJson(
        sortKeys({ apiVersion: "v1", items: [item], kind: "List", metadata: { resourceVersion: "" } }),
      ),
    );
  }
  if (spec.clusterYml !== undefined) files.set("cluster.yml", spec.clusterYml);
  if (spec.ipPools) {
    const items = spec.ipPools.map((p): Json => ({
      apiVersion: "crd.projectcalico.org/v1",
      kind: "IPPool",
      metadata: {
        annotations: { "projectcalico.org/metadata": '{"creationTimestamp":null}' },
        creationTimestamp: spec.createdAt,
        generation: 1,
        name: p.name,
        resourceVersion: ctx.nextResourceVersion(),
        uid: uid(spec.seed, "IPPool", p.name),
      },
      spec: p.spec,
    }));
    files.set(
      "ippools.json",
      kubectlJson(sortKeys({ apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } })),
    );
  }
  for (const ns of [...new Set((spec.configMaps ?? []).map((c) => c.namespace))].sort()) {
    const items = (spec.configMaps ?? [])
      .filter((c) => c.namespace === ns)
      .map((c): Json => ({
        apiVersion: "v1",
        data: c.data,
        kind: "ConfigMap",
        metadata: {
          creationTimestamp: spec.createdAt,
          name: c.name,
          namespace: ns,
          resourceVersion: ctx.nextResourceVersion(),
          uid: uid(spec.seed, "ConfigMap", `${ns}/${c.name}`),
        },
      }));
    files.set(
      `${ns}/configmaps.json`,
      kubectlJson(sortKeys({ apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } })),
    );
  }
  if (spec.nodeFacts) {
    const readAt = spec.nodeFacts.readAt;
    const items = spec.nodeFacts.nodes.map((n): Json => ({ ...n, readAt, unavailable: n.unavailable ?? {} }));
    files.set("node-facts.json", kubectlJson(sortKeys({ items })));
  }
}

function applyOverrides(spec: BundleSpec, files: BundleFiles): void {
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    if (content === null) files.delete(path);
    else files.set(path, content);
  }
}

/** Renders the bundle in memory: relative path → content. Deterministic for a given spec. */
export function renderBundle(spec: BundleSpec): BundleFiles {
  const parts = partsFor(spec);
  let rv = 4_000_000 + (spec.seed % 1000) * 1000;
  const nodes = new Map<string, NodeInfo>();
  spec.nodes.forEach((n, index) =>
    nodes.set(n.name, { name: n.name, uid: uid(spec.seed, "Node", n.name), ip: n.internalIP, index }),
  );
  const ctx: RenderContext = {
    seed: spec.seed,
    runtime: spec.distribution === "rke1" ? "docker" : "containerd",
    nodes,
    nextResourceVersion: () => String((rv += 7)),
  };
  const files: BundleFiles = new Map();
  const nodeItems = spec.nodes.map((n) => nodeObject(spec, parts, ctx, n)).sort(byName);
  const namespaces = new Map<string, NamespaceContent>(parts.namespaces.map((ns) => [ns, emptyNamespace()]));
  const nsOf = (name: string): NamespaceContent => {
    const found = namespaces.get(name);
    if (found) return found;
    const created = emptyNamespace();
    namespaces.set(name, created);
    return created;
  };
  const events: EventDef[] = [];
  for (const w of parts.workloads) {
    const expanded = expandWorkload(ctx, w);
    const ns = nsOf(w.namespace);
    ns.daemonSets.push(...expanded.daemonSets);
    ns.deployments.push(...expanded.deployments);
    ns.replicaSets.push(...expanded.replicaSets);
    ns.pods.push(...expanded.pods);
    for (const [pod, text] of podLogs(w, expanded)) ns.logs.set(pod, text);
    events.push(...calicoRolloutEvents(spec, w, expanded));
  }
  events.forEach((e, i) => nsOf(e.namespace).events.push(event(ctx, e, i)));
  for (const s of parts.services) nsOf(s.namespace).services.push(service(ctx, s));
  const listRv = ctx.nextResourceVersion();
  files.set("nodes.json", kubectlJson(list("NodeList", "v1", listRv, nodeItems)));
  for (const [name, content] of [...namespaces.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const itemsFor: Record<string, Json[]> = {
      "events.json": content.events,
      "replication-controllers.json": [],
      "services.json": content.services,
      "daemonsets.json": content.daemonSets,
      "deployments.json": content.deployments,
      "replicasets.json": content.replicaSets,
      "pods.json": content.pods,
    };
    for (const f of NAMESPACE_FILES) {
      const items = [...(itemsFor[f.file] ?? [])].sort(byName);
      files.set(`${name}/${f.file}`, kubectlJson(list(f.kind, f.apiVersion, listRv, items)));
    }
    for (const [pod, text] of [...content.logs.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      files.set(`${name}/${pod}/logs.txt`, text);
    }
  }
  calicoExtras(spec, ctx, files);
  applyOverrides(spec, files);
  return files;
}

/**
 * Writes the bundle into `dir` (created if needed; an existing directory is replaced so no stale
 * file survives). Returns the relative paths written, sorted.
 */
export async function writeBundle(dir: string, spec: BundleSpec): Promise<string[]> {
  const files = renderBundle(spec);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const paths = [...files.keys()].sort();
  for (const rel of paths) {
    const target = join(dir, ...rel.split("/"));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, files.get(rel) ?? "");
  }
  return paths;
}
