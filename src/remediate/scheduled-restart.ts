// The rolling restart on a schedule: a CronJob (with least-privilege RBAC) that runs
// `cnidoctor apply --only-symptomatic`, so a run restarts nothing once the symptom is gone.

import { join } from "node:path";
import { stringify } from "yaml";
import type { CalicoInstall } from "../model/snapshot.js";
import type { Step } from "../model/plan.js";
import { unifiedDiff } from "./diff.js";
import { leaseName, restartStepId } from "./rolling-restart.js";
import type { InstallPlanner, PlanFacts } from "./types.js";

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

export const scheduledRestartPlanner: InstallPlanner = {
  name: "scheduled restart CronJob",
  implements: ["rolling-restart"],
  planInstall: (facts, i) => [scheduledStep(facts, i)],
};
