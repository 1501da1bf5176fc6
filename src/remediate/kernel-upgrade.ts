// The node kernel upgrade: a manual step (drain, install the HWE kernel, reboot), shown whenever
// a cluster was read, with the kernels it runs.

import type { ManualStep } from "../model/plan.js";
import type { PlanFacts, Planner } from "./types.js";

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

export const kernelUpgradePlanner: Planner = {
  name: "kernel upgrade",
  implements: ["kernel-upgrade"],
  plan: (facts) => ({ steps: facts.snapshot !== undefined ? [kernelStep(facts)] : [], notes: [] }),
};
