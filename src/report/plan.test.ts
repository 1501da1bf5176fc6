import { test } from "node:test";
import assert from "node:assert/strict";
import type { Plan } from "../model/plan.js";
import { renderPlanMarkdown, renderPlanText } from "./plan.js";

const base = { notes: [] as string[], default: true, durable: true, alreadyApplied: false };

const PLAN: Plan = {
  schemaVersion: 1,
  advisoryId: "CNID-TEST-0001",
  createdAt: "2026-12-06T00:00:00.000Z",
  inputs: ["bundle ./dump", "cluster.yml ./cluster.yml"],
  notes: ["Diagnosis: 1 affected of 2 nodes."],
  steps: [
    {
      ...base,
      kind: "file-edit",
      id: "rke1-pin",
      remediationId: "pin",
      title: "Pin the release",
      summary: "Edit cluster.yml,\nthen run `rke up`.",
      tradeoffs: "A restart of every node.",
      notes: ["Rancher-managed clusters take this from Rancher."],
      diff: "--- a/cluster.yml\n+++ b/cluster.yml\n@@ -1 +1 @@\n-a: ```x```\n+a: y\n",
      path: "/tmp/cluster.yml",
      beforeSha256: "0".repeat(64),
      after: "a: y\n",
    },
    {
      ...base,
      kind: "manual",
      id: "upgrade",
      remediationId: "upgrade",
      title: "Upgrade Calico",
      summary: "Move to a fixed release.",
      default: false,
      diff: "",
      instructions: ["Refresh Rancher's metadata.", "Pick v1.30.4+rke2r1."],
    },
  ],
};

test("plan markdown: sections, tags, notes as a list, instructions numbered", () => {
  const md = renderPlanMarkdown(PLAN, new Set(["rke1-pin"]));
  assert.match(md, /^# Remediation plan for CNID-TEST-0001\n/);
  assert.match(md, /Made from bundle \.\/dump, cluster\.yml \.\/cluster\.yml at 2026-12-06T00:00:00\.000Z\./);
  assert.match(md, /^- Diagnosis: 1 affected of 2 nodes\.$/m);
  assert.match(md, /^## 1\. Pin the release$/m);
  assert.match(md, /^Step `rke1-pin`: file-edit, runs with apply, durable\.$/m);
  // A newline inside a sentence does not break the paragraph.
  assert.match(md, /^Edit cluster\.yml, then run `rke up`\.$/m);
  assert.match(md, /^\*\*Trade-off:\*\* A restart of every node\.$/m);
  assert.match(md, /^- \*\*Note:\*\* Rancher-managed clusters take this from Rancher\.$/m);
  assert.match(md, /^Step `upgrade`: manual, not executed, durable\.$/m);
  assert.match(md, /^1\. Refresh Rancher's metadata\.\n2\. Pick v1\.30\.4\+rke2r1\.$/m);
  assert.ok(md.endsWith("\n") && !md.endsWith("\n\n"));
});

test("plan markdown: a diff holding backticks cannot close its fence", () => {
  const md = renderPlanMarkdown(PLAN, new Set());
  assert.match(md, /^````diff\n--- a\/cluster\.yml\n[\s\S]*\n\+a: y\n````$/m);
});

test("plan text: numbered steps with tags, notes, instructions and an indented diff", () => {
  const text = renderPlanText(PLAN, new Set(["rke1-pin"]));
  const lines = text.split("\n");
  assert.equal(lines[0], "Plan for CNID-TEST-0001 (bundle ./dump, cluster.yml ./cluster.yml)");
  assert.equal(lines[1], "  Diagnosis: 1 affected of 2 nodes.");
  assert.ok(lines.includes("1. [rke1-pin] Pin the release"));
  assert.ok(lines.includes("   (file-edit, runs with apply, durable)"));
  assert.ok(lines.includes("   ! Rancher-managed clusters take this from Rancher."));
  assert.ok(lines.includes("     +a: y"));
  assert.ok(lines.includes("2. [upgrade] Upgrade Calico"));
  assert.ok(lines.includes("   (manual, not executed, durable)"));
  assert.ok(lines.includes("   > Pick v1.30.4+rke2r1."));
  assert.equal(
    renderPlanText({ ...PLAN, inputs: [], steps: [] }, new Set()).split("\n")[0],
    "Plan for CNID-TEST-0001 (no inputs)",
  );
});
