// A memory limit on calico-node: the unbounded growth becomes an OOM kill and a restart of the
// container, which caps the damage per node (a stopgap of the rolling-restart remediation).

import type { CalicoInstall } from "../model/snapshot.js";
import type { KubePatchStep } from "../model/plan.js";
import { daemonSetRef } from "./rolling-restart.js";
import type { InstallPlanner, PlanFacts } from "./types.js";
import { CALICO_CONTAINER, installContainer } from "../versions/index.js";

export function limitStepId(i: { namespace: string; name: string }): string {
  return `limit-memory-${i.namespace}-${i.name}`;
}

function limitStep(facts: PlanFacts, i: CalicoInstall): KubePatchStep {
  const limit = facts.options.memoryLimit;
  const container = installContainer(i, CALICO_CONTAINER);
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

export const memoryLimitPlanner: InstallPlanner = {
  name: "memory limit",
  implements: ["rolling-restart"],
  planInstall: (facts, i) => [limitStep(facts, i)],
};
