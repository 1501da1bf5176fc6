// Who renders the kube-flannel container decides how its image is fixed: a patch only where nothing
// re-renders the DaemonSet, else a note naming the place to change it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { loadAdvisories } from "../advisories/load.js";
import { diagnose } from "../analyze/diagnose.js";
import { collectBundle } from "../collect/bundle/collect-bundle.js";
import { objectNeeds } from "../collect/object-needs.js";
import { compileSignatures } from "../logs/index.js";
import type { Snapshot } from "../model/snapshot.js";
import { parseImageRef } from "../versions/image.js";
import { buildPlan, DEFAULT_PLAN_OPTIONS } from "./index.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/", import.meta.url));
const advisory = (await loadAdvisories()).find((a) => a.id === "CNID-2024-0002");
assert.ok(advisory);
const adv = advisory;
const now = new Date("2024-09-01T12:00:00Z");

/** The RKE1 Canal example with its kube-flannel pinned to flannel v0.24.3 (system_images.canal_flannel). */
async function rke1CanalOnV0243(): Promise<Snapshot> {
  const snapshot = await collectBundle(join(EXAMPLES, "rke1-canal-affected"), {
    container: "calico-node",
    signatures: compileSignatures([adv]),
    now,
    needs: objectNeeds([adv]),
  });
  const raw = "rancher/mirrored-flannel-flannel:v0.24.3";
  const ref = parseImageRef(raw);
  assert.ok(ref);
  for (const install of snapshot.installs)
    for (const pod of install.pods)
      pod.images["kube-flannel"] = {
        value: ref,
        from: { source: "pod-spec", ref: `pod ${pod.name} (test pin)` },
      };
  return snapshot;
}

test("RKE1's Canal add-on on flannel v0.24.3: no DaemonSet patch, a note to pin canal_flannel in cluster.yml", async () => {
  const snapshot = await rke1CanalOnV0243();
  assert.deepEqual(
    snapshot.installs.map((i) => [i.plugin, i.managedBy]),
    [["canal", "rke1-addon"]],
  );
  const plan = buildPlan(
    {
      advisory: adv,
      snapshot,
      diagnosis: diagnose(snapshot, adv),
      options: { ...DEFAULT_PLAN_OPTIONS, outputDir: "/out" },
    },
    ["test"],
    now,
  );
  assert.ok(!plan.steps.some((s) => s.kind === "kube-patch"), plan.steps.map((s) => s.id).join(" "));
  assert.ok(
    plan.notes.some((n) =>
      /kube-system\/canal runs rancher\/mirrored-flannel-flannel:v0\.24\.3, and `rke up` re-renders RKE1's canal add-on from cluster\.yml: set system_images\.canal_flannel/.test(
        n,
      ),
    ),
    plan.notes.join("\n"),
  );
});
