// Stopgaps and guard rails: the gated rolling restart of calico-node (now, or on a schedule while
// the symptom persists), a memory limit that bounds the damage, the kernel upgrade (manual), and
// the alert rules as a file.

import { join } from "node:path";
import { stringify } from "yaml";
import type { CalicoInstall } from "../model/snapshot.js";
import type { KubeObjectRef, KubePatchStep, ManualStep, RollingRestartStep, Step } from "../model/plan.js";
import { alertRulesDocument } from "./alerts.js";
import { unifiedDiff } from "./diff.js";
import type { PlanFacts, PlannerResult } from "./types.js";

export function daemonSetRef(i: { namespace: string; name: string }): KubeObjectRef {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    plural: "daemonsets",
    namespace: i.namespace,
    name: i.name,
  };
}

export function restartStepId(i: { namespace: string; name: string }): string {
  return `restart-${i.namespace}-${i.name}`;
}

export function leaseName(dsName: string): string {
  return `cnidoctor-restart-${dsName}`;
}

/** The DaemonSet a restart targets; podCount only words the title. */
export interface RestartTarget {
  namespace: string;
  name: string;
  container: string;
  podCount?: number;
}

export function restartStep(
  facts: Pick<PlanFacts, "advisory" | "options">,
  i: RestartTarget,
): RollingRestartStep {
  const o = facts.options;
  const remediation = facts.advisory.remediations.find((r) => r.id === "rolling-restart");
  const who = o.onlySymptomatic
    ? "the calico-node pods whose log shows the signature"
    : `all ${i.podCount !== undefined ? `${i.podCount} ` : ""}calico-node pods`;
  return {
    id: restartStepId(i),
    remediationId: "rolling-restart",
    kind: "rolling-restart",
    title: `Rolling restart of ${who} of ${i.namespace}/${i.name}, ${o.maxUnavailable} at a time`,
    summary: remediation?.summary ?? "Restart calico-node.",
    ...(remediation?.tradeoffs !== undefined ? { tradeoffs: remediation.tradeoffs } : {}),
    notes: [
      `Each batch deletes ${o.maxUnavailable} pod(s) and waits up to ${o.batchTimeoutSeconds}s for every replacement to be Ready; the first failure stops the restart and is reported.`,
      `A Lease ${i.namespace}/${leaseName(i.name)} (TTL ${o.leaseTtlSeconds}s) keeps two runs from overlapping.`,
      "Temporary: the retry loop comes back. Nothing to roll back: the pods are recreated from the unchanged template.",
    ],
    diff: `~ delete and recreate pods of DaemonSet ${i.namespace}/${i.name} in batches of ${o.maxUnavailable}\n`,
    default: false,
    durable: false,
    alreadyApplied: false,
    daemonSet: daemonSetRef(i),
    container: i.container,
    maxUnavailable: o.maxUnavailable,
    batchTimeoutSeconds: o.batchTimeoutSeconds,
    onlySymptomatic: o.onlySymptomatic,
    lease: { name: leaseName(i.name), namespace: i.namespace, ttlSeconds: o.leaseTtlSeconds },
  };
}

/** ServiceAccount, Role, ClusterRole (read-only nodes) and bindings, and the CronJob. */
export function scheduledRestartManifests(facts: PlanFacts, i: CalicoInstall): Record<string, unknown>[] {
  const o = facts.options;
  const name = `cnidoctor-restart-${i.name}`;
  const ns = i.namespace;
  const labels = {
    "app.kubernetes.io/name": "cnidoctor",
    "app.kubernetes.io/component": "scheduled-restart",
  };
  const meta = { name, namespace: ns, labels };
  const subject = [{ kind: "ServiceAccount", name, namespace: ns }];
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta,
      rules: [
        { apiGroups: ["apps"], resources: ["daemonsets"], resourceNames: [i.name], verbs: ["get"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "delete"] },
        { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          resourceNames: [leaseName(i.name)],
          verbs: ["get", "update", "delete"],
        },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: subject,
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `${name}-${ns}`, labels },
      rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${name}-${ns}`, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${name}-${ns}` },
      subjects: subject,
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta,
      spec: {
        schedule: o.schedule,
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: Math.max(600, o.leaseTtlSeconds),
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: name,
                restartPolicy: "Never",
                containers: [
                  {
                    name: "cnidoctor",
                    // Assumption (docs/remediation.md): an image whose entrypoint is the cnidoctor CLI.
                    image: o.image,
                    args: [
                      "apply",
                      "--daemonset",
                      `${ns}/${i.name}`,
                      "--only",
                      restartStepId(i),
                      "--only-symptomatic",
                      "--max-unavailable",
                      String(o.maxUnavailable),
                      "--batch-timeout",
                      String(o.batchTimeoutSeconds),
                      "--yes",
                      "--state-dir",
                      "/tmp/cnidoctor-state",
                    ],
                    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                    securityContext: {
                      allowPrivilegeEscalation: false,
                      readOnlyRootFilesystem: true,
                      runAsNonRoot: true,
                      runAsUser: 65532,
                    },
                    volumeMounts: [{ name: "state", mountPath: "/tmp" }],
                  },
                ],
                volumes: [{ name: "state", emptyDir: {} }],
              },
            },
          },
        },
      },
    },
  ];
}

function scheduledStep(facts: PlanFacts, i: CalicoInstall): Step {
  const content = scheduledRestartManifests(facts, i)
    .map((d) => stringify(d))
    .join("---\n");
  const file = join(facts.options.outputDir, `cnidoctor-scheduled-restart-${i.name}.yaml`);
  return {
    id: `scheduled-restart-${i.namespace}-${i.name}`,
    remediationId: "rolling-restart",
    kind: "file-write",
    title: `Write a CronJob (${facts.options.schedule}) that restarts only symptomatic calico-node pods of ${i.namespace}/${i.name}`,
    summary:
      "Runs `cnidoctor apply --only-symptomatic` on a schedule: a run restarts nothing once the signature is gone.",
    notes: [
      `Image assumption: ${facts.options.image} must run the cnidoctor CLI as its entrypoint (override with --image).`,
      "RBAC is least privilege: pods get/list/delete, pods/log and the one Lease in the DaemonSet's namespace, read-only nodes cluster-wide.",
      `Review, then \`kubectl apply -f ${file}\`; remove with \`kubectl delete -f ${file}\`.`,
    ],
    diff: unifiedDiff("", content, file),
    default: false,
    durable: false,
    alreadyApplied: false,
    path: file,
    content,
  };
}

export function limitStepId(i: { namespace: string; name: string }): string {
  return `limit-memory-${i.namespace}-${i.name}`;
}

function limitStep(facts: PlanFacts, i: CalicoInstall): KubePatchStep {
  const limit = facts.options.memoryLimit;
  const container = i.calicoNode.name;
  const patch = {
    spec: {
      template: { spec: { containers: [{ name: container, resources: { limits: { memory: limit } } }] } },
    },
  };
  const reconciler =
    i.managedBy === "manifest"
      ? ""
      : ` ${i.managedBy} re-renders this DaemonSet (rke up, chart or operator reconcile) and will drop the limit; set it there for a durable change.`;
  return {
    id: limitStepId(i),
    remediationId: "rolling-restart",
    kind: "kube-patch",
    title: `Bound ${container} memory in ${i.namespace}/${i.name} at ${limit}`,
    summary:
      "A memory limit turns the unbounded growth into an OOM kill and a restart of the container: an automatic restart that caps the damage per node.",
    tradeoffs: `Too low breaks Felix itself: a healthy calico-node needs roughly 100–300 MiB on a small cluster and more with many endpoints and policies; an OOM loop stops policy programming on that node. Pick a limit well above the healthy working set (${limit} by default). Changing the pod template rolls the DaemonSet by its own updateStrategy.`,
    notes: [
      `Strategic merge patch on container ${container} only; other containers and requests are kept.${reconciler}`,
    ],
    diff: `  ${i.namespace}/${i.name} containers[name=${container}].resources.limits.memory\n+   ${limit}\n`,
    default: false,
    durable: false,
    alreadyApplied: false,
    target: daemonSetRef(i),
    patchType: "strategic",
    patch,
    expect: [
      {
        path: [
          "spec",
          "template",
          "spec",
          "containers",
          { name: container },
          "resources",
          "limits",
          "memory",
        ],
        value: limit,
      },
    ],
  };
}

function kernelStep(facts: PlanFacts): ManualStep {
  const r = facts.advisory.remediations.find((x) => x.id === "kernel-upgrade");
  const kernels = [
    ...new Set((facts.snapshot?.nodes ?? []).map((n) => n.kernelVersion).filter((k) => k !== undefined)),
  ];
  return {
    id: "kernel-upgrade",
    remediationId: "kernel-upgrade",
    kind: "manual",
    title: r?.title ?? "Upgrade the node kernel",
    summary: r?.summary ?? "",
    ...(r?.tradeoffs !== undefined ? { tradeoffs: r.tradeoffs } : {}),
    notes: kernels.length > 0 ? [`Kernels seen: ${kernels.join(", ")}.`] : [],
    diff: "",
    default: false,
    durable: true,
    alreadyApplied: false,
    instructions: [
      "One node at a time: kubectl drain NODE --ignore-daemonsets --delete-emptydir-data",
      "sudo apt-get install --install-recommends linux-generic-hwe-20.04 && sudo reboot",
      "kubectl uncordon NODE, then check the node's calico-node pod is Ready before the next.",
    ],
  };
}

function alertsStep(facts: PlanFacts): Step {
  const content = alertRulesDocument(facts.advisory, "prometheusrule");
  const path = join(facts.options.outputDir, "cnidoctor-alerts.yaml");
  return {
    id: "alert-rules",
    remediationId: "alert-on-signature",
    kind: "file-write",
    title: "Write Prometheus alert rules (PrometheusRule) for the signature rate, CPU and memory slope",
    summary:
      "Alerts when the signature rate, calico-node CPU or its working-set slope crosses the advisory thresholds.",
    notes: [
      "The signature-rate rule needs the cnidoctor agent's counter cnidoctor_signature_matches_total; the CPU and memory rules need cAdvisor metrics only.",
      `kubectl apply -f ${path} (Prometheus Operator), or \`cnidoctor alerts --format rules\` for a plain rule file.`,
    ],
    diff: unifiedDiff("", content, path),
    default: false,
    durable: true,
    alreadyApplied: false,
    path,
    content,
  };
}

export function planMitigations(facts: PlanFacts): PlannerResult {
  const installs = facts.snapshot?.installs ?? [];
  const steps: Step[] = [];
  for (const i of installs)
    steps.push(
      restartStep(facts, {
        namespace: i.namespace,
        name: i.name,
        container: i.calicoNode.name,
        podCount: i.pods.length,
      }),
      scheduledStep(facts, i),
      limitStep(facts, i),
    );
  if (facts.snapshot !== undefined) steps.push(kernelStep(facts));
  steps.push(alertsStep(facts));
  return { steps, notes: [] };
}
