// Per-install planners run together, install by install: for each calico-node install, every
// part's steps in turn. So a cluster with two installs gets each install's stopgaps side by side
// (restart, CronJob, limit of the first, then of the second), not all restarts first.

import type { Step } from "../model/plan.js";
import type { InstallPlanner, Planner } from "./types.js";

export function perInstall(name: string, parts: readonly InstallPlanner[]): Planner {
  return {
    name,
    implements: [...new Set(parts.flatMap((p) => p.implements))],
    parts,
    plan(facts) {
      const steps: Step[] = [];
      // A flannel install runs no calico-node: these stopgaps are calico-node's.
      for (const install of facts.snapshot?.installs ?? [])
        if (install.calicoNode !== undefined)
          for (const part of parts) steps.push(...part.planInstall(facts, install));
      return { steps, notes: [] };
    },
  };
}
