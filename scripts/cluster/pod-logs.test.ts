// The harness's pod logs for the flannel scenario: the hot nodes' kube-flannel containers serve
// flannel v0.24.3's IPv6 rule loop in CRI form, the others flanneld's start-up only, and the log
// engine finds CNID-2024-0002's symptom in the first and not in the second.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAdvisories } from "../../src/advisories/load.js";
import { compileSignatures, scanLogFile } from "../../src/logs/index.js";
import { planNodes } from "./node-objects.js";
import { flannelLogFile, writePodLogs } from "./pod-logs.js";
import { findScenario, hotNodeCount } from "./scenarios.js";

test("rke2-canal-flannel-loop: the first third of the nodes log the IPv6 rule loop from kube-flannel", async () => {
  const scenario = findScenario("rke2-canal-flannel-loop");
  assert.ok(scenario);
  const plans = planNodes(scenario, 3);
  const hot = hotNodeCount(scenario, plans.length);
  assert.equal(hot, 1);
  const dir = await mkdtemp(join(tmpdir(), "cnid-harness-flannel-"));
  try {
    await writePodLogs(dir, scenario, plans, hot);
    const set = compileSignatures(await loadAdvisories());
    const symptom = async (node: string): Promise<number> => {
      const { scan } = await scanLogFile(flannelLogFile(dir, node), set);
      assert.equal(scan.yearFrom, undefined, "CRI stamps give the year");
      return (
        scan.signals.find((s) => s.advisoryId === "CNID-2024-0002" && s.signatureId === "ipv6-restore-loop")
          ?.count ?? 0
      );
    };
    const [first, second] = plans;
    assert.ok(first && second);
    // 15 minutes of history, a failure per 5 s resync after the bootstrap one.
    assert.equal(await symptom(first.name), 180);
    assert.equal(await symptom(second.name), 0);
    assert.match(
      await readFile(flannelLogFile(dir, first.name), "utf8"),
      / stderr F E\d{4} [\d:.]+ +1 iptables\.go:440\] /,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
