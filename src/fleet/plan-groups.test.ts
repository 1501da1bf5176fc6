import { test } from "node:test";
import assert from "node:assert/strict";
import type { ManualStep, Plan } from "../model/plan.js";
import { groupLine, groupPlans, type ClusterPlans } from "./plan-groups.js";

function upgrade(from: string, to: string, applied = false): ManualStep {
  return {
    kind: "manual",
    id: "rke2-upgrade",
    remediationId: "upgrade-rke2",
    title: `Upgrade RKE2 ${from} to ${to}`,
    summary: "",
    notes: [],
    diff: `- rke2 ${from}\n+ rke2 ${to}\n`,
    default: false,
    durable: true,
    alreadyApplied: applied,
    instructions: [],
  };
}

function plan(...steps: ManualStep[]): Plan {
  return { schemaVersion: 1, advisoryId: "CNID-1", createdAt: "", inputs: [], steps, notes: [] };
}

function cluster(context: string, p: Plan, needed = true): ClusterPlans {
  return { context, server: "", outcome: "planned", plans: [p], needed: needed ? ["CNID-1"] : [] };
}

test("clusters are grouped by the change they need, whatever they start from; most clusters first", () => {
  const groups = groupPlans([
    cluster("c", plan(upgrade("v1.30.2+rke2r1", "v1.30.5+rke2r1"))),
    cluster("a", plan(upgrade("v1.30.3+rke2r1", "v1.30.5+rke2r1"))),
    cluster("b", plan(upgrade("v1.29.1+rke2r1", "v1.29.9+rke2r1"))),
    cluster("d", plan(upgrade("v1.30.3+rke2r1", "v1.30.5+rke2r1")), false),
    cluster("e", plan(upgrade("v1.30.3+rke2r1", "v1.30.5+rke2r1", true))),
    {
      context: "f",
      server: "",
      outcome: "gap",
      gap: { reason: "timeout", message: "m" },
      plans: [],
      needed: [],
    },
  ]);
  assert.deepEqual(groups.map(groupLine), [
    "2 clusters (d, e): nothing affected or at risk: no change needed",
    "2 clusters (a, c): upgrade-rke2 → rke2 v1.30.5+rke2r1",
    "1 cluster (b): Upgrade RKE2 v1.29.1+rke2r1 to v1.29.9+rke2r1",
    "1 cluster (f): not read (timeout)",
  ]);
});
