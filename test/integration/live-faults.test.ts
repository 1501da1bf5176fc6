// A live scan through a loopback proxy that injects 429s, 500s, slow responses and connection
// resets into a share of requests, and fails some reads for good: the scan still finishes, recovers
// what retries can recover, and reports what it could not read as coverage gaps — never as a pass.
// Needs the binaries from scripts/cluster/ensure-tools.sh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClusterInfo } from "../../scripts/cluster/cluster.js";
import { clusterForSuite } from "./support/cluster.js";
import { startFaultProxy, type Fault } from "./support/fault-proxy.js";
import { cnidoctor, kubectl, nodeStatuses, parseReport, proxiedKubeconfig } from "./support/live.js";

const NAME = "it-live-faults";
const NODES = 6;
let cluster: ClusterInfo | undefined;

clusterForSuite({ scenario: "rke1-canal-affected", nodes: NODES, name: NAME }, (info) => {
  cluster = info;
});

// Three requests in ten misbehave, in a fixed rotation of the four kinds of trouble.
const ROTATION: Fault[] = ["429", "500", "slow", "reset"];
function schedule(n: number): Fault | undefined {
  if (n % 10 !== 1 && n % 10 !== 4 && n % 10 !== 7) return undefined;
  return ROTATION[Math.floor(n / 3) % ROTATION.length];
}

test(
  "faults are retried, permanent failures become coverage gaps, the scan finishes",
  { timeout: 240_000 },
  async () => {
    assert.ok(cluster);
    const work = mkdtempSync(join(tmpdir(), "it-live-faults-"));
    const clean = parseReport(await cnidoctor(["scan", "--kubeconfig", cluster.kubeconfig, "-o", "json"]));
    const cleanStatuses = nodeStatuses(clean);
    const [hot] = cluster.hotNodes;
    assert.ok(hot);

    // The hot node's calico-node log fails for good, and so do FelixConfigurations.
    const podOf = await podNames(cluster.kubeconfig);
    const hotPod = podOf[hot];
    assert.ok(hotPod);
    const proxy = await startFaultProxy({
      stateDir: cluster.stateDir,
      apiserverPort: cluster.apiserverPort,
      schedule,
      slowMs: 3000,
      alwaysFail: [
        { pattern: new RegExp(`/pods/${hotPod}/log\\?container=calico-node&`), status: 500 },
        { pattern: /felixconfigurations/, status: 503 },
      ],
    });
    try {
      const r = await cnidoctor([
        "scan",
        "--kubeconfig",
        proxiedKubeconfig(proxy.url, join(work, "proxy.kubeconfig")),
        "--request-timeout",
        "1s",
        "--concurrency",
        "4",
        "-o",
        "json",
      ]);
      assert.equal(r.code, 3, `scan finished with a verdict (stderr: ${r.stderr})`);
      const report = parseReport(r);
      for (const kind of ROTATION)
        assert.ok(proxy.counts[kind] > 0, `no ${kind} was injected: ${JSON.stringify(proxy.counts)}`);

      const gaps = report.coverage.filter((c) => c.status === "not-evaluated");
      const logGap = gaps.find((g) => g.check === "logs" && g.subject === hot);
      assert.ok(logGap, `no logs gap for ${hot}: ${JSON.stringify(gaps)}`);
      assert.match(logGap.reason, /HTTP 500.*after 5 attempts/);
      assert.equal(logGap.material, true);
      const felixGap = gaps.find((g) => g.check === "felix-configuration");
      assert.ok(felixGap, JSON.stringify(gaps));
      assert.match(felixGap.reason, /HTTP 503/);

      // The hot node's symptom could not be read: it is not reported as affected, and not as healthy.
      const statuses = nodeStatuses(report);
      assert.notEqual(statuses[hot], "affected");
      assert.notEqual(statuses[hot], "not-affected");
      // Nothing else was lost for good: every other node keeps its verdict.
      for (const [node, s] of Object.entries(cleanStatuses))
        if (node !== hot) assert.equal(statuses[node], s, node);
      // Checks no verdict depended on (a live scan's missing node-agent facts) are listed, not lost.
      assert.deepEqual(
        gaps
          .filter((g) => g !== logGap && g !== felixGap && g.material !== false)
          .map((g) => `${g.check} ${g.subject ?? ""}: ${g.reason}`),
        [],
      );
    } finally {
      await proxy.close();
    }
  },
);

async function podNames(kubeconfig: string): Promise<Record<string, string>> {
  const list = JSON.parse(await kubectl(kubeconfig, ["-n", "kube-system", "get", "pods", "-o", "json"])) as {
    items: { metadata: { name: string }; spec: { nodeName?: string } }[];
  };
  const out: Record<string, string> = {};
  for (const p of list.items) if (p.spec.nodeName !== undefined) out[p.spec.nodeName] = p.metadata.name;
  return out;
}
