// The VXLAN checksum-offload planners on the example bundles: flannel's device (udev rule and
// DaemonSet) for Canal, Felix's featureDetectOverride and the rke2-calico HelmChartConfig for
// Calico, nothing where the scan found nothing; and `plan --advisory` end to end.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { loadAdvisories } from "../advisories/load.js";
import { diagnose } from "../analyze/diagnose.js";
import { collectBundle } from "../collect/bundle/collect-bundle.js";
import { objectNeeds } from "../collect/object-needs.js";
import { compileSignatures } from "../logs/index.js";
import type { FileWriteStep, KubePatchStep, Plan } from "../model/plan.js";
import { buildPlan, DEFAULT_PLAN_OPTIONS } from "./index.js";
import { withFeature } from "./vxlan-offload.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const EXAMPLES = join(ROOT, "examples");
const advisory = (await loadAdvisories()).find((a) => a.id === "CNID-2021-0001");
assert.ok(advisory);
const adv = advisory;
const now = new Date("2025-03-10T10:00:00Z");

async function planOf(example: string): Promise<Plan> {
  const snapshot = await collectBundle(join(EXAMPLES, example), {
    container: "calico-node",
    signatures: compileSignatures([adv]),
    now,
    needs: objectNeeds([adv]),
  });
  return buildPlan(
    {
      advisory: adv,
      snapshot,
      diagnosis: diagnose(snapshot, adv),
      options: { ...DEFAULT_PLAN_OPTIONS, outputDir: "/out" },
    },
    ["test"],
    now,
  );
}

test("Canal on vSphere: a udev rule file for every node and a least-privilege DaemonSet, both with diffs", async () => {
  const plan = await planOf("vxlan-vsphere-affected");
  assert.deepEqual(
    plan.steps.map((s) => s.id),
    ["flannel-udev-rule", "flannel-offload-daemonset", "vxlan-port-change", "alert-rules"],
  );
  const udev = plan.steps.find((s): s is FileWriteStep => s.id === "flannel-udev-rule");
  assert.equal(udev?.destination, "/etc/udev/rules.d/90-flannel.rules");
  assert.match(
    udev?.content ?? "",
    /^SUBSYSTEM=="net", ACTION=="add\|change\|move", ENV\{INTERFACE\}=="flannel\.1", RUN\+="\/usr\/sbin\/ethtool -K flannel\.1 tx-checksum-ip-generic off"$/m,
  );
  assert.match(udev?.content ?? "", /ENV\{INTERFACE\}=="flannel\.4096"/);
  assert.match(udev?.diff ?? "", /^\+SUBSYSTEM=="net"/m);
  const ds = plan.steps.find((s): s is FileWriteStep => s.id === "flannel-offload-daemonset");
  const doc = parse(ds?.content ?? "") as {
    kind: string;
    spec: {
      template: {
        spec: {
          hostNetwork: boolean;
          automountServiceAccountToken: boolean;
          containers: {
            securityContext: { privileged: boolean; capabilities: { add: string[]; drop: string[] } };
          }[];
        };
      };
    };
  };
  assert.equal(doc.kind, "DaemonSet");
  const pod = doc.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  assert.equal(pod.automountServiceAccountToken, false);
  assert.deepEqual(pod.containers[0]?.securityContext.capabilities, { drop: ["ALL"], add: ["NET_ADMIN"] });
  assert.equal(pod.containers[0]?.securityContext.privileged, false);
  assert.ok(ds?.notes.some((n) => /hostNetwork .* NET_ADMIN .* not privileged/.test(n)));
  assert.equal(
    plan.steps.some((s) => s.kind === "kube-patch"),
    false,
    "Felix does not own flannel.1: no FelixConfiguration change for Canal",
  );
});

test("RKE2 calico without the override: a reversible FelixConfiguration patch and the HelmChartConfig", async () => {
  const plan = await planOf("calico-vxlan-override-removed");
  const patch = plan.steps.find((s): s is KubePatchStep => s.id === "felix-checksum-offload-override");
  assert.ok(patch, plan.steps.map((s) => s.id).join(", "));
  assert.deepEqual(patch.patch, { spec: { featureDetectOverride: "ChecksumOffloadBroken=true" } });
  assert.deepEqual(patch.target, {
    apiVersion: "crd.projectcalico.org/v1",
    kind: "FelixConfiguration",
    plural: "felixconfigurations",
    name: "default",
  });
  assert.match(patch.diff, /^\+ {2}featureDetectOverride: ChecksumOffloadBroken=true$/m);
  assert.equal(patch.alreadyApplied, false);
  const hcc = plan.steps.find((s): s is FileWriteStep => s.id === "rke2-calico-restore-override");
  assert.equal(parseAllDocuments(hcc?.content ?? "").length, 1);
  const values = parse(
    (parse(hcc?.content ?? "") as { spec: { valuesContent: string } }).spec.valuesContent,
  ) as { felixConfiguration: { featureDetectOverride: string } };
  assert.equal(values.felixConfiguration.featureDetectOverride, "ChecksumOffloadBroken=true");
  assert.equal(
    plan.steps.some((s) => s.id === "flannel-udev-rule"),
    false,
  );
});

test("nothing exposed, nothing planned but the alert rules", async () => {
  for (const example of ["calico-vxlan-protected", "calico-ipip-lookalike"]) {
    const plan = await planOf(example);
    assert.deepEqual(
      plan.steps.map((s) => s.id),
      ["alert-rules"],
      example,
    );
    // CNID-2021-0001 has no resource alerts: the step must not promise CPU or memory rules.
    const alerts = plan.steps.find((s) => s.id === "alert-rules");
    assert.equal(alerts?.title, "Write Prometheus alert rules (PrometheusRule) for the signature rate");
    assert.doesNotMatch(
      `${alerts?.summary ?? ""} ${(alerts?.notes ?? []).join(" ")}`,
      /CPU|memory|calico-node/,
    );
    assert.ok(
      plan.notes.some((n) => /Nothing is affected or at risk/.test(n)),
      example,
    );
  }
});

test("featureDetectOverride keeps other keys and replaces a false value", () => {
  assert.equal(withFeature(undefined, "ChecksumOffloadBroken"), "ChecksumOffloadBroken=true");
  assert.equal(
    withFeature("SNATFullyRandom=false", "ChecksumOffloadBroken"),
    "SNATFullyRandom=false,ChecksumOffloadBroken=true",
  );
  assert.equal(
    withFeature("ChecksumOffloadBroken=false, MASQFullyRandom=false", "ChecksumOffloadBroken"),
    "MASQFullyRandom=false,ChecksumOffloadBroken=true",
  );
});

test("`plan --advisory CNID-2021-0001` prints the steps with their diffs", () => {
  const r = spawnSync(
    process.execPath,
    [
      join(ROOT, "dist/src/cli/bin.js"),
      "plan",
      "--advisory",
      "CNID-2021-0001",
      "--bundle",
      join(EXAMPLES, "calico-vxlan-override-removed"),
      "-o",
      "json",
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as Plan;
  assert.equal(plan.advisoryId, "CNID-2021-0001");
  const patch = plan.steps.find((s) => s.id === "felix-checksum-offload-override");
  assert.match(patch?.diff ?? "", /featureDetectOverride/);
});
