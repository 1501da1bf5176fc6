// A remediation Plan: pure, serialisable data produced by the planners in src/remediate/ and executed
// by src/apply/. Nothing here performs an effect; a Plan printed with `-o json` is the whole truth
// about what `apply` would change.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** An API object addressed by group/version, kind, namespace (when namespaced) and name. */
export interface KubeObjectRef {
  apiVersion: string;
  kind: string;
  /** Lower-case plural used in the REST path, e.g. "felixconfigurations". */
  plural: string;
  namespace?: string;
  name: string;
}

interface StepBase {
  /** Unique within a plan; `apply --only ID` selects it. */
  id: string;
  /** The advisory remediation it implements. */
  remediationId: string;
  title: string;
  /** Why, in a sentence or two. */
  summary: string;
  tradeoffs?: string;
  /** Warnings the operator must read (env overrides, Rancher reverts, uncertain facts). */
  notes: string[];
  /** A unified diff (files) or a before/after rendering (objects) for review. */
  diff: string;
  /** Executed by `apply` without `--only` (disruptive and optional steps are opt-in). */
  default: boolean;
  /** False for stopgaps whose effect wears off (restarts). */
  durable: boolean;
  /** True when the planner already sees the change in place; apply skips it. */
  alreadyApplied: boolean;
}

/** Replace a whole local file whose current bytes hash to `beforeSha256`. */
export interface FileEditStep extends StepBase {
  kind: "file-edit";
  path: string;
  beforeSha256: string;
  after: string;
}

/** Write a new file (e.g. a HelmChartConfig) into the output directory. */
export interface FileWriteStep extends StepBase {
  kind: "file-write";
  path: string;
  content: string;
  /** Where the operator must place it, when the file is meant for somewhere else (server nodes). */
  destination?: string;
}

/** A merge or strategic-merge patch of one API object, created from `createIfMissing` when absent. */
export interface KubePatchStep extends StepBase {
  kind: "kube-patch";
  target: KubeObjectRef;
  patchType: "merge" | "strategic";
  patch: JsonObject;
  createIfMissing?: JsonObject;
  /** Field paths whose values mean "already applied" when they all hold on the live object. */
  expect: { path: (string | { name: string })[]; value: JsonValue }[];
}

/** Restart the calico-node pods of a DaemonSet in gated batches, under a Lease. */
export interface RollingRestartStep extends StepBase {
  kind: "rolling-restart";
  daemonSet: KubeObjectRef;
  container: string;
  /** Pods deleted per batch. */
  maxUnavailable: number;
  /** Per batch: every replacement must be Ready within this, or the restart stops. */
  batchTimeoutSeconds: number;
  /** Restart only pods whose calico-node log shows the advisory's symptom signature. */
  onlySymptomatic: boolean;
  lease: { name: string; namespace: string; ttlSeconds: number };
}

/** Something only the operator (or Rancher, or `rke up`) can do; shown, never executed. */
export interface ManualStep extends StepBase {
  kind: "manual";
  instructions: string[];
}

export type Step = FileEditStep | FileWriteStep | KubePatchStep | RollingRestartStep | ManualStep;
export type StepKind = Step["kind"];

export interface Plan {
  schemaVersion: 1;
  advisoryId: string;
  createdAt: string;
  /** What the plan was made from: a cluster context, a bundle, a cluster.yml. */
  inputs: string[];
  steps: Step[];
  /** Plan-wide remarks (nothing to do, inputs missing). */
  notes: string[];
}
