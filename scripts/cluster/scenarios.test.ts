// The harness's flannel-only scenario, as objects: what `up` would apply must be what cnidoctor
// recognises as flannel on its own (kube-flannel.yml), with the ConfigMap the advisories read by
// name and no Calico objects at all. No cluster is started.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAdvisories } from "../../src/advisories/load.js";
import { calicoInstall, daemonSetTemplate, metaOf } from "../../src/collect/k8s-objects.js";
import { objectNeeds } from "../../src/collect/object-needs.js";
import { compileSignatures, scanLogFile } from "../../src/logs/index.js";
import { calicoObjects, daemonSetObjects } from "./calico-objects.js";
import { nodeObject, planNodes } from "./node-objects.js";
import { flannelLogFile, writePodLogs } from "./pod-logs.js";
import { findScenario, hotNodeCount, scenarioNames } from "./scenarios.js";

const NAME = "flannel-standalone-loop";

test("flannel-standalone-loop: kube-flannel/kube-flannel-ds without calico-node, which cnidoctor reads as flannel", () => {
  assert.ok(scenarioNames().includes(NAME));
  const scenario = findScenario(NAME);
  assert.ok(scenario);
  const objects = daemonSetObjects(scenario, 3);
  assert.deepEqual(
    objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`),
    [
      "Namespace /kube-flannel",
      "ServiceAccount kube-flannel/flannel",
      "DaemonSet kube-flannel/kube-flannel-ds",
    ],
  );
  const ds = objects[2];
  assert.ok(ds);
  const template = daemonSetTemplate(ds);
  const containers = (template.containers as { name: string; image: string }[]).map((c) => [c.name, c.image]);
  assert.deepEqual(containers, [["kube-flannel", "docker.io/flannel/flannel:v0.24.3"]]);
  const install = calicoInstall({
    ...metaOf(ds),
    podSpec: template,
    container: "calico-node",
    ref: "harness",
    source: "daemonset",
  });
  assert.equal(install?.plugin, "flannel");
  assert.equal(install?.managedBy, "manifest");
  assert.equal(install?.calicoNode, undefined);
  // The RKE2 server was started without a CNI of its own.
  const [first] = planNodes(scenario, 3);
  assert.ok(first);
  const annotations = (nodeObject(scenario, first, 0).metadata.annotations ?? {}) as Record<string, string>;
  assert.deepEqual(JSON.parse(annotations["rke2.io/node-args"] ?? "[]"), ["server", "--cni", "none"]);
});

test("flannel-standalone-loop: only kube-flannel-cfg (after its namespace), the name the advisories GET", async () => {
  const scenario = findScenario(NAME);
  assert.ok(scenario);
  const objects = calicoObjects(scenario);
  assert.deepEqual(
    objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`),
    ["Namespace /kube-flannel", "ConfigMap kube-flannel/kube-flannel-cfg"],
  );
  const needs = objectNeeds(await loadAdvisories());
  assert.ok(needs.configMaps.some((c) => c.namespace === "kube-flannel" && c.name === "kube-flannel-cfg"));
  const data = (objects[1]?.data ?? {}) as Record<string, string>;
  assert.equal(
    (JSON.parse(data["net-conf.json"] ?? "{}") as { Backend?: { Type?: string } }).Backend?.Type,
    "vxlan",
  );
  // Every other scenario keeps its Calico objects.
  const canal = findScenario("rke2-canal-flannel-loop");
  assert.ok(canal);
  assert.ok(calicoObjects(canal).some((o) => o.kind === "FelixConfiguration"));
});

test("flannel-standalone-loop: the hot third of the nodes log flannel v0.24.3's IPv6 rule loop", async () => {
  const scenario = findScenario(NAME);
  assert.ok(scenario);
  const plans = planNodes(scenario, 3);
  const hot = hotNodeCount(scenario, plans.length);
  assert.equal(hot, 1);
  const dir = await mkdtemp(join(tmpdir(), "cnid-harness-kube-flannel-"));
  try {
    await writePodLogs(dir, scenario, plans, hot);
    const set = compileSignatures(await loadAdvisories());
    const loops = async (node: string): Promise<number> =>
      (await scanLogFile(flannelLogFile(dir, node), set)).scan.signals.find(
        (s) => s.advisoryId === "CNID-2024-0002" && s.signatureId === "ipv6-restore-loop",
      )?.count ?? 0;
    const [first, second] = plans;
    assert.ok(first && second);
    assert.ok((await loops(first.name)) > 0);
    assert.equal(await loops(second.name), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
