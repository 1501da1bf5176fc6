// The gated rolling restart of calico-node: a stopgap that frees the CPU and memory for a while
// (the loop comes back). `apply --daemonset` builds the same step for the scheduled restart.

import type { KubeObjectRef, RollingRestartStep } from "../model/plan.js";
import type { InstallPlanner, PlanFacts } from "./types.js";
import { CALICO_CONTAINER, installContainer } from "../versions/index.js";

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

export const rollingRestartPlanner: InstallPlanner = {
  name: "rolling restart",
  implements: ["rolling-restart"],
  planInstall: (facts, i) => [
    restartStep(facts, {
      namespace: i.namespace,
      name: i.name,
      container: installContainer(i, CALICO_CONTAINER),
      podCount: i.pods.length,
    }),
  ],
};
