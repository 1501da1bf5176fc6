// Turns raw Kubernetes objects (from a bundle or the API) into Snapshot facts. Shared by every
// collector so offline and live scans see the same facts the same way.

import type { Fact } from "../model/provenance.js";
import type { ImageRef } from "../model/image.js";
import type {
  AgentNodeFacts,
  CalicoInstall,
  ContainerFacts,
  FelixConfigurationFacts,
  NodeFacts,
  ObjectFacts,
  PodFacts,
} from "../model/snapshot.js";
import {
  calicoVersionFromImage,
  detectNodeDistribution,
  detectPlugin,
  FLANNEL_CONTAINER,
  parseImageRef,
} from "../versions/index.js";

export { installContainer } from "../versions/index.js";

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === "string") out[k] = x;
  return out;
}

export function metaOf(o: Obj): {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const m = obj(o.metadata);
  return {
    name: str(m.name) ?? "",
    namespace: str(m.namespace) ?? "",
    labels: strMap(m.labels),
    annotations: strMap(m.annotations),
  };
}

export function nodeFacts(o: Obj, where: string): NodeFacts {
  const meta = metaOf(o);
  const info = obj(obj(o.status).nodeInfo);
  const node = {
    name: meta.name,
    labels: meta.labels,
    annotations: meta.annotations,
    ...(str(obj(o.spec).providerID) !== undefined ? { providerID: str(obj(o.spec).providerID) } : {}),
    ...(str(info.osImage) !== undefined ? { osImage: str(info.osImage) } : {}),
    ...(str(info.kernelVersion) !== undefined ? { kernelVersion: str(info.kernelVersion) } : {}),
    ...(str(info.kubeletVersion) !== undefined ? { kubeletVersion: str(info.kubeletVersion) } : {}),
    ...(str(info.containerRuntimeVersion) !== undefined
      ? { containerRuntimeVersion: str(info.containerRuntimeVersion) }
      : {}),
  } as Omit<NodeFacts, "distribution">;
  const distribution = detectNodeDistribution(node);
  return {
    ...node,
    distribution: {
      value: distribution.value,
      from: { source: "node", ref: `${where} node ${meta.name}: ${distribution.from.ref}` },
    },
  };
}

function imageFact(raw: string, ref: string, source: "pod-spec" | "daemonset"): Fact<ImageRef> {
  return { value: parseImageRef(raw) ?? { raw, repository: raw }, from: { source, ref } };
}

function containerFacts(c: Obj, ref: string, source: "pod-spec" | "daemonset"): ContainerFacts {
  const name = str(c.name) ?? "";
  const env: ContainerFacts["env"] = {};
  for (const e of arr(c.env)) {
    const key = str(e.name);
    if (key === undefined) continue;
    env[key] = {
      value: str(e.value) ?? (e.valueFrom !== undefined ? undefined : ""),
      from: { source, ref: `${ref} container ${name}` },
    };
  }
  return { name, image: imageFact(str(c.image) ?? "", `${ref} container ${name}`, source), env };
}

function podSpecContainers(spec: Obj): Obj[] {
  return arr(spec.containers);
}

/** Pod facts: running image from status when present (what really runs), else the spec. */
export function podFacts(o: Obj, container: string, where: string): PodFacts {
  const meta = metaOf(o);
  const spec = obj(o.spec);
  const status = obj(o.status);
  const ref = `${where} pod ${meta.namespace}/${meta.name}`;
  const images: Record<string, Fact<ImageRef>> = {};
  for (const c of podSpecContainers(spec)) {
    const n = str(c.name);
    const img = str(c.image);
    if (n !== undefined && img !== undefined)
      images[n] = imageFact(img, `${ref} spec.containers[${n}].image`, "pod-spec");
  }
  let restartCount = 0;
  let ready: boolean | undefined;
  for (const cs of arr(status.containerStatuses)) {
    if (str(cs.name) !== container) continue;
    restartCount = typeof cs.restartCount === "number" ? cs.restartCount : 0;
    ready = typeof cs.ready === "boolean" ? cs.ready : undefined;
    const img = str(cs.image);
    // Status images may be normalised ("docker.io/…"); trust them only when they carry a tag.
    if (img !== undefined && parseImageRef(img)?.tag !== undefined)
      images[container] = imageFact(img, `${ref} status.containerStatuses[${container}].image`, "pod-spec");
  }
  return {
    namespace: meta.namespace,
    name: meta.name,
    restartCount,
    images,
    ...(str(spec.nodeName) !== undefined ? { nodeName: str(spec.nodeName) } : {}),
    ...(str(status.phase) !== undefined ? { phase: str(status.phase) } : {}),
    ...(ready !== undefined ? { ready } : {}),
    ...(str(status.startTime) !== undefined ? { startTime: str(status.startTime) } : {}),
  };
}

/**
 * The containers of a pod whose logs are read: `container` (calico-node: always, so a pod without
 * it shows as unreadable), then those of `others` (containers further advisories name) that the
 * pod's spec runs.
 */
export function podLogContainers(pod: PodFacts, container: string, others: readonly string[] = []): string[] {
  return [container, ...others.filter((c) => c !== container && Object.hasOwn(pod.images, c))];
}

/** The pod template of a DaemonSet, or a pod spec standing in for it when only pods were readable. */
export function calicoInstall(args: {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  podSpec: Obj;
  container: string;
  ref: string;
  source: "daemonset" | "pod-spec";
}): CalicoInstall | undefined {
  const containers = podSpecContainers(args.podSpec);
  const names = containers.map((c) => str(c.name) ?? "");
  const node = containers.find((c) => str(c.name) === args.container);
  if (!node && !names.includes(FLANNEL_CONTAINER)) return undefined;
  const plugin = detectPlugin({
    namespace: args.namespace,
    name: args.name,
    labels: args.labels,
    annotations: args.annotations,
    containerNames: names,
    images: containers.map((c) => str(c.image) ?? ""),
  });
  if (!plugin) return undefined;
  // A flannel install runs no Felix: no calico-node, and no Calico version.
  const calicoNode =
    node !== undefined && plugin.plugin !== "flannel"
      ? containerFacts(node, args.ref, args.source)
      : undefined;
  const version = calicoNode !== undefined ? calicoVersionFromImage(calicoNode.image.value) : undefined;
  const others = containers.filter(
    (c) => (calicoNode === undefined || c !== node) && str(c.name) !== undefined,
  );
  return {
    plugin: plugin.plugin,
    managedBy: plugin.managedBy,
    namespace: args.namespace,
    name: args.name,
    ...(calicoNode !== undefined ? { calicoNode } : {}),
    ...(others.length > 0
      ? {
          containers: Object.fromEntries(
            others.map((c) => [str(c.name) ?? "", containerFacts(c, args.ref, args.source)]),
          ),
        }
      : {}),
    pods: [],
    ...(version && calicoNode ? { version: { value: version, from: calicoNode.image.from } } : {}),
  };
}

export function daemonSetTemplate(o: Obj): Obj {
  return obj(obj(obj(o.spec).template).spec);
}

export function ownerDaemonSet(o: Obj): string | undefined {
  const owner = arr(obj(o.metadata).ownerReferences).find((r) => str(r.kind) === "DaemonSet");
  return owner ? str(owner.name) : undefined;
}

export function felixConfigurationFacts(o: Obj, where: string): FelixConfigurationFacts {
  const meta = metaOf(o);
  return {
    name: meta.name,
    spec: obj(o.spec),
    from: { source: "felix-configuration", ref: `${where} FelixConfiguration ${meta.name}` },
  };
}

export function clusterInformationVersion(items: Obj[]): string | undefined {
  const def = items.find((i) => metaOf(i).name === "default") ?? items[0];
  return def ? str(obj(def.spec).calicoVersion) : undefined;
}

/**
 * An object a condition reads, without its metadata. A ConfigMap keeps only `data`: a condition
 * reads a named key there, and nothing else of it belongs in a report.
 */
export function objectFacts(o: Obj, kind: string, where: string): ObjectFacts {
  const meta = metaOf(o);
  const body = kind === "ConfigMap" ? { data: obj(o.data) } : { spec: obj(o.spec) };
  const name = meta.namespace !== "" ? `${meta.namespace}/${meta.name}` : meta.name;
  return { namespace: meta.namespace, name: meta.name, body, ref: `${where} ${kind} ${name}` };
}

function counter(v: unknown): { first: number; last: number; source: string } | undefined {
  const c = obj(v);
  return typeof c.first === "number" && typeof c.last === "number"
    ? { first: c.first, last: c.last, source: str(c.source) ?? "" }
    : undefined;
}

/** One node's entry of node-facts.json (what the node agent writes); undefined when it names no node. */
export function agentNodeFacts(o: Obj, where: string): AgentNodeFacts | undefined {
  const node = str(o.node);
  if (node === undefined) return undefined;
  const driver = obj(o.nicDriver);
  const log = obj(o.kernelLog);
  const csum = counter(o.udpInCsumErrors);
  const lines = Array.isArray(log.lines)
    ? log.lines.filter((l): l is string => typeof l === "string")
    : undefined;
  return {
    node,
    readAt: str(o.readAt) ?? "",
    unavailable: strMap(o.unavailable),
    ...(str(driver.value) !== undefined
      ? { nicDriver: { value: str(driver.value) ?? "", source: `${where}: ${str(driver.source) ?? ""}` } }
      : {}),
    ...(csum !== undefined ? { udpInCsumErrors: { ...csum, source: `${where}: ${csum.source}` } } : {}),
    ...(lines !== undefined ? { kernelLog: { lines, source: `${where}: ${str(log.source) ?? ""}` } } : {}),
  };
}
