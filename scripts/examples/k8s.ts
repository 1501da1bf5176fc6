// Kubernetes objects as `kubectl cluster-info dump` writes them: field order of the Go structs,
// list items without kind/apiVersion, no managedFields, 4-space JSON with Go's HTML escaping.
// Workloads are described once (WorkloadDef) and expanded into the controller object, its
// ReplicaSet where there is one, and one pod per placement.

import { hashHex, sha256Digest, suffix, uid } from "./ids.js";

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };
export type JsonObject = { [key: string]: Json | undefined };

export type EnvVar = { name: string; value: string } | { name: string; valueFrom: JsonObject };

export interface ContainerDef {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: JsonObject[];
  privileged?: boolean;
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  /** The container's current log for the pod on `node`; "" for a container that printed nothing. */
  log: (node: string) => string;
  restartCount?: number;
}

export interface WorkloadDef {
  kind: "DaemonSet" | "Deployment" | "Job" | "Static";
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: JsonObject[];
  /** Selector labels; also on every pod. */
  selector: Record<string, string>;
  podLabels?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  initContainers?: ContainerDef[];
  containers: ContainerDef[];
  hostNetwork?: boolean;
  serviceAccount?: string;
  priorityClassName?: string;
  tolerations?: JsonObject[];
  /** One pod per entry, on that node. */
  nodes: string[];
  /** creationTimestamp of the controller object. */
  created: string;
  /** When its current pods were created and started. */
  podsStarted: string;
}

export interface NodeInfo {
  name: string;
  uid: string;
  ip: string;
  index: number;
}

export interface RenderContext {
  seed: number;
  runtime: "docker" | "containerd";
  nodes: Map<string, NodeInfo>;
  nextResourceVersion: () => string;
}

/** kubectl's JSON: 4-space indent, trailing newline, and Go's escaping of <, > and &. */
export function kubectlJson(value: Json): string {
  return (
    JSON.stringify(value, null, 4)
      .replace(/</g, "\\u003c")
      .replace(/>/g, "\\u003e")
      .replace(/&/g, "\\u0026")
      .replace(/\u2028/g, "\\u2028")
      .replace(/\u2029/g, "\\u2029") + "\n"
  );
}

/** Recursively sorts object keys, as Go's encoding/json does for unstructured (CRD) objects. */
export function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

export function list(kind: string, apiVersion: string, resourceVersion: string, items: Json[]): Json {
  return { kind, apiVersion, metadata: { resourceVersion }, items };
}

function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Registry-qualified form containerd reports in status.image. */
export function qualifyImage(image: string): string {
  const first = image.split("/")[0] ?? "";
  const hasRegistry =
    image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return image;
  return image.includes("/") ? `docker.io/${image}` : `docker.io/library/${image}`;
}

function repositoryOf(image: string): string {
  const at = image.indexOf("@");
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

function imageStatus(ctx: RenderContext, image: string): { image: string; imageID: string } {
  const digest = sha256Digest("image", image);
  if (ctx.runtime === "docker") {
    return { image, imageID: `docker-pullable://${repositoryOf(image)}@${digest}` };
  }
  const qualified = qualifyImage(image);
  return { image: qualified, imageID: `${repositoryOf(qualified)}@${digest}` };
}

function containerSpec(c: ContainerDef): JsonObject {
  const resources: JsonObject = {};
  if (c.limits) resources.limits = c.limits;
  if (c.requests) resources.requests = c.requests;
  return {
    name: c.name,
    image: c.image,
    command: c.command,
    args: c.args,
    ports: c.ports,
    env: c.env,
    resources,
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: "IfNotPresent",
    securityContext: c.privileged ? { privileged: true } : undefined,
  };
}

const DAEMONSET_TOLERATIONS: JsonObject[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

const DEFAULT_TOLERATIONS: JsonObject[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
];

function priorityOf(className: string | undefined): number {
  if (className === "system-node-critical") return 2000001000;
  if (className === "system-cluster-critical") return 2000000000;
  return 0;
}

function podSpec(w: WorkloadDef, node: string | undefined): JsonObject {
  const extraTolerations = w.kind === "DaemonSet" && node ? DAEMONSET_TOLERATIONS : [];
  const baseTolerations = w.kind === "Deployment" || w.kind === "Job" ? DEFAULT_TOLERATIONS : [];
  const tolerations = [...(w.tolerations ?? []), ...(node ? [...extraTolerations, ...baseTolerations] : [])];
  const sa = w.kind === "Static" ? undefined : (w.serviceAccount ?? "default");
  return {
    initContainers: w.initContainers?.map(containerSpec),
    containers: w.containers.map(containerSpec),
    restartPolicy: w.kind === "Job" ? "OnFailure" : "Always",
    terminationGracePeriodSeconds: 30,
    dnsPolicy: w.hostNetwork ? "ClusterFirstWithHostNet" : "ClusterFirst",
    nodeSelector: w.kind === "Static" ? undefined : { "kubernetes.io/os": "linux" },
    serviceAccountName: sa,
    serviceAccount: sa,
    nodeName: node,
    hostNetwork: w.hostNetwork,
    securityContext: {},
    affinity:
      w.kind === "DaemonSet" && node
        ? {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] },
                ],
              },
            },
          }
        : undefined,
    schedulerName: "default-scheduler",
    tolerations: tolerations.length > 0 ? tolerations : undefined,
    priorityClassName: w.priorityClassName,
    priority: node ? priorityOf(w.priorityClassName) : undefined,
    enableServiceLinks: node ? true : undefined,
    preemptionPolicy: node ? "PreemptLowerPriority" : undefined,
  };
}

function ownerRef(apiVersion: string, kind: string, name: string, ownerUid: string): JsonObject {
  return { apiVersion, kind, name, uid: ownerUid, controller: true, blockOwnerDeletion: true };
}

interface PodPlacement {
  name: string;
  generateName?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  owner: JsonObject;
}

function containerStatus(
  ctx: RenderContext,
  podName: string,
  c: ContainerDef,
  opts: { started: string; completed: boolean },
): JsonObject {
  const id = hashHex(ctx.seed, "container", podName, c.name);
  const containerID = `${ctx.runtime}://${id}`;
  const state: JsonObject = opts.completed
    ? {
        terminated: {
          exitCode: 0,
          reason: "Completed",
          startedAt: opts.started,
          finishedAt: addSeconds(opts.started, 4),
          containerID,
        },
      }
    : { running: { startedAt: opts.started } };
  return {
    name: c.name,
    state,
    lastState: {},
    ready: !opts.completed,
    restartCount: c.restartCount ?? 0,
    ...imageStatus(ctx, c.image),
    containerID,
    started: !opts.completed,
  };
}

function podStatus(ctx: RenderContext, w: WorkloadDef, node: string, podName: string): JsonObject {
  const info = ctx.nodes.get(node);
  const hostIP = info?.ip ?? "10.20.0.1";
  const podIP = w.hostNetwork
    ? hostIP
    : `10.42.${info?.index ?? 0}.${2 + (Number.parseInt(hashHex(podName).slice(0, 4), 16) % 250)}`;
  const completed = w.kind === "Job";
  const t0 = w.podsStarted;
  const ready = completed ? "False" : "True";
  const reason = completed ? "PodCompleted" : undefined;
  const conditions: JsonObject[] = [
    { type: "PodReadyToStartContainers", status: ready, lastProbeTime: null, lastTransitionTime: t0 },
    { type: "Initialized", status: "True", lastProbeTime: null, lastTransitionTime: t0, reason },
    { type: "Ready", status: ready, lastProbeTime: null, lastTransitionTime: addSeconds(t0, 9), reason },
    {
      type: "ContainersReady",
      status: ready,
      lastProbeTime: null,
      lastTransitionTime: addSeconds(t0, 9),
      reason,
    },
    { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: t0 },
  ];
  return {
    phase: completed ? "Succeeded" : "Running",
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: t0,
    initContainerStatuses: w.initContainers?.map((c) =>
      containerStatus(ctx, podName, c, { started: addSeconds(t0, 1), completed: true }),
    ),
    containerStatuses: w.containers.map((c) =>
      containerStatus(ctx, podName, c, { started: addSeconds(t0, 3), completed }),
    ),
    qosClass: w.containers.some((c) => c.requests) ? "Burstable" : "BestEffort",
  };
}

export function nameOf(object: JsonObject): string {
  const meta = object.metadata;
  if (meta && typeof meta === "object" && !Array.isArray(meta) && typeof meta.name === "string")
    return meta.name;
  return "";
}

function pod(ctx: RenderContext, w: WorkloadDef, node: string, placement: PodPlacement): JsonObject {
  return {
    metadata: {
      name: placement.name,
      generateName: placement.generateName,
      namespace: w.namespace,
      uid: uid(ctx.seed, "Pod", w.namespace, placement.name),
      resourceVersion: ctx.nextResourceVersion(),
      creationTimestamp: w.podsStarted,
      labels: placement.labels,
      annotations: placement.annotations,
      ownerReferences: [placement.owner],
    },
    spec: podSpec(w, node),
    status: podStatus(ctx, w, node, placement.name),
  };
}

function template(w: WorkloadDef, extraLabels: Record<string, string> = {}): JsonObject {
  return {
    metadata: {
      creationTimestamp: null,
      labels: { ...w.selector, ...w.podLabels, ...extraLabels },
      annotations: w.podAnnotations,
    },
    spec: podSpec(w, undefined),
  };
}

function objectMeta(ctx: RenderContext, w: WorkloadDef, extra: JsonObject = {}): JsonObject {
  return {
    name: w.name,
    namespace: w.namespace,
    uid: uid(ctx.seed, w.kind, w.namespace, w.name),
    resourceVersion: ctx.nextResourceVersion(),
    generation: 1,
    creationTimestamp: w.created,
    labels: w.labels,
    annotations: w.annotations,
    ownerReferences: w.ownerReferences,
    ...extra,
  };
}

export interface ExpandedWorkload {
  /** Pod names in the order of the workload's nodes. */
  podNames: string[];
  daemonSets: JsonObject[];
  deployments: JsonObject[];
  replicaSets: JsonObject[];
  pods: JsonObject[];
}

function expandDaemonSet(ctx: RenderContext, w: WorkloadDef): ExpandedWorkload {
  const dsUid = uid(ctx.seed, w.kind, w.namespace, w.name);
  const revision = suffix(10, ctx.seed, "revision", w.namespace, w.name);
  const n = w.nodes.length;
  const daemonSet: JsonObject = {
    metadata: objectMeta(ctx, w, {
      annotations: { "deprecated.daemonset.template.generation": "1", ...w.annotations },
    }),
    spec: {
      selector: { matchLabels: w.selector },
      template: template(w),
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    },
    status: {
      currentNumberScheduled: n,
      numberMisscheduled: 0,
      desiredNumberScheduled: n,
      numberReady: n,
      observedGeneration: 1,
      updatedNumberScheduled: n,
      numberAvailable: n,
    },
  };
  const pods = w.nodes.map((node) => {
    const name = `${w.name}-${suffix(5, ctx.seed, w.namespace, w.name, node)}`;
    return pod(ctx, w, node, {
      name,
      generateName: `${w.name}-`,
      labels: {
        ...w.selector,
        ...w.podLabels,
        "controller-revision-hash": revision,
        "pod-template-generation": "1",
      },
      annotations: w.podAnnotations,
      owner: ownerRef("apps/v1", "DaemonSet", w.name, dsUid),
    });
  });
  return { podNames: pods.map(nameOf), daemonSets: [daemonSet], deployments: [], replicaSets: [], pods };
}

function availableCondition(at: string): JsonObject[] {
  return [
    {
      type: "Available",
      status: "True",
      lastUpdateTime: at,
      lastTransitionTime: at,
      reason: "MinimumReplicasAvailable",
      message: "Deployment has minimum availability.",
    },
  ];
}

function expandDeployment(ctx: RenderContext, w: WorkloadDef): ExpandedWorkload {
  const n = w.nodes.length;
  const deployUid = uid(ctx.seed, w.kind, w.namespace, w.name);
  const hash = suffix(10, ctx.seed, "pod-template-hash", w.namespace, w.name);
  const rsName = `${w.name}-${hash}`;
  const rsUid = uid(ctx.seed, "ReplicaSet", w.namespace, rsName);
  const replicas = { replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n };
  const deployment: JsonObject = {
    metadata: objectMeta(ctx, w, {
      annotations: { "deployment.kubernetes.io/revision": "1", ...w.annotations },
    }),
    spec: {
      replicas: n,
      selector: { matchLabels: w.selector },
      template: template(w),
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: { observedGeneration: 1, ...replicas, conditions: availableCondition(w.created) },
  };
  const replicaSet: JsonObject = {
    metadata: {
      name: rsName,
      namespace: w.namespace,
      uid: rsUid,
      resourceVersion: ctx.nextResourceVersion(),
      generation: 1,
      creationTimestamp: w.created,
      labels: { ...w.selector, ...w.podLabels, "pod-template-hash": hash },
      annotations: {
        "deployment.kubernetes.io/desired-replicas": String(n),
        "deployment.kubernetes.io/max-replicas": String(n + Math.ceil(n / 4)),
        "deployment.kubernetes.io/revision": "1",
        ...w.annotations,
      },
      ownerReferences: [ownerRef("apps/v1", "Deployment", w.name, deployUid)],
    },
    spec: {
      replicas: n,
      selector: { matchLabels: { ...w.selector, "pod-template-hash": hash } },
      template: template(w, { "pod-template-hash": hash }),
    },
    status: {
      replicas: n,
      fullyLabeledReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
      observedGeneration: 1,
    },
  };
  const pods = w.nodes.map((node, i) => {
    const name = `${rsName}-${suffix(5, ctx.seed, rsName, node, i)}`;
    return pod(ctx, w, node, {
      name,
      generateName: `${rsName}-`,
      labels: { ...w.selector, ...w.podLabels, "pod-template-hash": hash },
      annotations: w.podAnnotations,
      owner: ownerRef("apps/v1", "ReplicaSet", rsName, rsUid),
    });
  });
  return {
    podNames: pods.map(nameOf),
    daemonSets: [],
    deployments: [deployment],
    replicaSets: [replicaSet],
    pods,
  };
}

function expandJob(ctx: RenderContext, w: WorkloadDef): ExpandedWorkload {
  const jobUid = uid(ctx.seed, "Job", w.namespace, w.name);
  const pods = w.nodes.map((node) => {
    const name = `${w.name}-${suffix(5, ctx.seed, "job", w.namespace, w.name)}`;
    return pod(ctx, w, node, {
      name,
      generateName: `${w.name}-`,
      labels: {
        ...w.selector,
        ...w.podLabels,
        "batch.kubernetes.io/controller-uid": jobUid,
        "batch.kubernetes.io/job-name": w.name,
        "controller-uid": jobUid,
        "job-name": w.name,
      },
      annotations: w.podAnnotations,
      owner: ownerRef("batch/v1", "Job", w.name, jobUid),
    });
  });
  return { podNames: pods.map(nameOf), daemonSets: [], deployments: [], replicaSets: [], pods };
}

function expandStatic(ctx: RenderContext, w: WorkloadDef): ExpandedWorkload {
  const pods = w.nodes.map((node) => {
    const configHash = hashHex(ctx.seed, "static", w.name, node).slice(0, 32);
    return pod(ctx, w, node, {
      name: `${w.name}-${node}`,
      labels: { ...w.selector, ...w.podLabels },
      annotations: {
        ...w.podAnnotations,
        "kubernetes.io/config.hash": configHash,
        "kubernetes.io/config.mirror": configHash,
        "kubernetes.io/config.seen": w.podsStarted.replace("Z", ".000000000Z"),
        "kubernetes.io/config.source": "file",
      },
      owner: {
        apiVersion: "v1",
        kind: "Node",
        name: node,
        uid: ctx.nodes.get(node)?.uid ?? "",
        controller: true,
      },
    });
  });
  return { podNames: pods.map(nameOf), daemonSets: [], deployments: [], replicaSets: [], pods };
}

export function expandWorkload(ctx: RenderContext, w: WorkloadDef): ExpandedWorkload {
  switch (w.kind) {
    case "DaemonSet":
      return expandDaemonSet(ctx, w);
    case "Deployment":
      return expandDeployment(ctx, w);
    case "Job":
      return expandJob(ctx, w);
    case "Static":
      return expandStatic(ctx, w);
  }
}

export interface ServiceDef {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  selector?: Record<string, string>;
  clusterIP: string;
  ports: JsonObject[];
  created: string;
}

export function service(ctx: RenderContext, s: ServiceDef): JsonObject {
  return {
    metadata: {
      name: s.name,
      namespace: s.namespace,
      uid: uid(ctx.seed, "Service", s.namespace, s.name),
      resourceVersion: ctx.nextResourceVersion(),
      creationTimestamp: s.created,
      labels: s.labels,
      annotations: s.annotations,
    },
    spec: {
      ports: s.ports,
      selector: s.selector,
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      type: "ClusterIP",
      sessionAffinity: "None",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      internalTrafficPolicy: "Cluster",
    },
    status: { loadBalancer: {} },
  };
}

export interface EventDef {
  namespace: string;
  involved: { kind: string; name: string; apiVersion: string; fieldPath?: string };
  reason: string;
  message: string;
  type: "Normal" | "Warning";
  component: string;
  host?: string;
  at: string;
  count?: number;
}

export function event(ctx: RenderContext, e: EventDef, index: number): JsonObject {
  const involvedUid = uid(ctx.seed, e.involved.kind, e.namespace, e.involved.name);
  const stamp = hashHex(ctx.seed, "event", e.namespace, e.involved.name, e.reason, index).slice(0, 16);
  return {
    metadata: {
      name: `${e.involved.name}.${stamp}`,
      namespace: e.namespace,
      uid: uid(ctx.seed, "Event", e.namespace, e.involved.name, index),
      resourceVersion: ctx.nextResourceVersion(),
      creationTimestamp: e.at,
    },
    involvedObject: {
      kind: e.involved.kind,
      namespace: e.namespace,
      name: e.involved.name,
      uid: involvedUid,
      apiVersion: e.involved.apiVersion,
      fieldPath: e.involved.fieldPath,
    },
    reason: e.reason,
    message: e.message,
    source: { component: e.component, host: e.host },
    firstTimestamp: e.at,
    lastTimestamp: e.at,
    count: e.count ?? 1,
    type: e.type,
    eventTime: null,
    reportingComponent: e.component,
    reportingInstance: e.host ?? "",
  };
}
