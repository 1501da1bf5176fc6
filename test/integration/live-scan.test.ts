// `cnidoctor scan` against a live cluster: every scenario of the harness gives its expected per-node
// status, `collect` + `scan --bundle` gives the same verdicts, and the shipped least-privilege role
// is enough — while a role missing pods/log shows up as a coverage gap (exit 4), not a crash or a pass.
// Needs the binaries from scripts/cluster/ensure-tools.sh.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify as toYaml } from "yaml";
import { startCluster, stopCluster, type ClusterInfo } from "../../scripts/cluster/cluster.js";
import {
  cnidoctor,
  kubectl,
  nodeStatuses,
  parseReport,
  tokenKubeconfig,
  type JsonReport,
} from "./support/live.js";

const NODES = 3;
const RBAC_FILE = new URL("../../../deploy/rbac/cnidoctor-scan.yaml", import.meta.url);
const work = mkdtempSync(join(tmpdir(), "it-live-"));
const started: string[] = [];

after(async () => {
  for (const name of started) await stopCluster({ name });
});

async function cluster(scenario: string): Promise<ClusterInfo> {
  const name = `it-live-${scenario}`.slice(0, 40);
  started.push(name);
  return startCluster({ scenario, nodes: NODES, name });
}

async function scanJson(
  kubeconfig: string,
  extra: string[] = [],
): Promise<{ code: number; report: JsonReport }> {
  const r = await cnidoctor(["scan", "--kubeconfig", kubeconfig, "-o", "json", ...extra]);
  return { code: r.code, report: parseReport(r) };
}

/** RBAC changes reach the authorizer through an informer: wait until the binding is in effect. */
async function untilAllowed(kubeconfig: string, sa: string, resource: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const answer = await kubectl(kubeconfig, [
      "auth",
      "can-i",
      "get",
      resource,
      `--as=system:serviceaccount:cnidoctor:${sa}`,
    ]).catch(() => "no");
    if (answer.trim() === "yes") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${sa} never got ${resource}`);
}

function expectAll(statuses: Record<string, string>, status: string): void {
  assert.equal(Object.keys(statuses).length, NODES, JSON.stringify(statuses));
  for (const [node, s] of Object.entries(statuses)) assert.equal(s, status, `${node}: ${s}`);
}

describe("live scan per scenario", { timeout: 900_000 }, () => {
  test("rke1-canal-affected: hot nodes affected, the others at risk; collect + scan --bundle agree", async () => {
    const c = await cluster("rke1-canal-affected");
    const { code, report } = await scanJson(c.kubeconfig);
    assert.equal(code, 3);
    assert.equal(report.target.kind, "live");
    assert.equal(report.target.distribution, "rke1");
    const statuses = nodeStatuses(report);
    assert.equal(Object.keys(statuses).length, NODES);
    for (const [node, s] of Object.entries(statuses))
      assert.equal(s, c.hotNodes.includes(node) ? "affected" : "at-risk", `${node}: ${s}`);
    assert.deepEqual(
      report.coverage.filter((x) => x.status === "not-evaluated" && x.material !== false),
      [],
      "an admin scan of a healthy harness reads everything",
    );

    const dir = join(work, "bundle-rke1");
    const collected = await cnidoctor(["collect", "--kubeconfig", c.kubeconfig, "--output-dir", dir]);
    assert.equal(collected.code, 0, collected.stderr);
    const fromBundle = parseReport(await cnidoctor(["scan", "--bundle", dir, "-o", "json"]));
    assert.equal(fromBundle.target.kind, "bundle");
    assert.deepEqual(nodeStatuses(fromBundle), statuses);
    assert.deepEqual(fromBundle.summary, report.summary);

    const again = await cnidoctor(["collect", "--kubeconfig", c.kubeconfig, "--output-dir", dir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /not empty .*--force/);
    const forced = await cnidoctor(["collect", "--kubeconfig", c.kubeconfig, "--output-dir", dir, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
  });

  test("--nodes focuses the scan on the selected nodes", async () => {
    const c = await cluster("rke1-canal-affected");
    const [hot] = c.hotNodes;
    assert.ok(hot);
    const { code, report } = await scanJson(c.kubeconfig, ["--nodes", `kubernetes.io/hostname=${hot}`]);
    assert.equal(code, 3);
    assert.deepEqual(nodeStatuses(report), { [hot]: "affected" });
  });

  test("rke2-canal-xdp-off: not affected (FELIX_XDPENABLED=false)", async () => {
    const c = await cluster("rke2-canal-xdp-off");
    const { code, report } = await scanJson(c.kubeconfig);
    expectAll(nodeStatuses(report), "not-affected");
    assert.equal(report.target.distribution, "rke2");
    assert.equal(code, 0);
  });

  test("rke2-calico-at-risk: at risk everywhere", async () => {
    const c = await cluster("rke2-calico-at-risk");
    const { code, report } = await scanJson(c.kubeconfig);
    expectAll(nodeStatuses(report), "at-risk");
    assert.equal(code, 3);
  });

  test("ebpf-lookalike: not affected (eBPF dataplane, lookalike log)", async () => {
    const c = await cluster("ebpf-lookalike");
    const { code, report } = await scanJson(c.kubeconfig);
    expectAll(nodeStatuses(report), "not-affected");
    assert.equal(code, 0);
  });

  test("healthy: not affected; the shipped role suffices, a role without pods/log is a coverage gap", async () => {
    const c = await cluster("healthy");
    const admin = await scanJson(c.kubeconfig);
    expectAll(nodeStatuses(admin.report), "not-affected");
    assert.equal(admin.code, 0);

    await kubectl(c.kubeconfig, ["apply", "-f", fileURLToPath(RBAC_FILE)]);
    await untilAllowed(c.kubeconfig, "cnidoctor-scan", "pods/log");
    const token = (
      await kubectl(c.kubeconfig, ["-n", "cnidoctor", "create", "token", "cnidoctor-scan"])
    ).trim();
    const saConfig = tokenKubeconfig(c.kubeconfig, token, join(work, "sa.kubeconfig"));
    const withRole = await scanJson(saConfig);
    assert.deepEqual(nodeStatuses(withRole.report), nodeStatuses(admin.report));
    assert.deepEqual(
      withRole.report.coverage.filter((x) => x.status === "not-evaluated" && x.material !== false),
      [],
      "the shipped role reads everything the scan needs",
    );
    assert.equal(withRole.code, 0);

    // The same role without pods/log, bound to another ServiceAccount.
    const docs = parseAllDocuments(readFileSync(RBAC_FILE, "utf8")).map(
      (d) => d.toJS() as Record<string, unknown>,
    );
    const variant = docs
      .filter((d) => d.kind !== "Namespace")
      .map((d) => {
        const copy = JSON.parse(JSON.stringify(d)) as Record<string, unknown> & {
          metadata: { name: string };
          rules?: { resources: string[] }[];
          roleRef?: { name: string };
          subjects?: { name: string }[];
        };
        copy.metadata.name = "cnidoctor-scan-nolog";
        if (copy.rules) copy.rules = copy.rules.filter((r) => !r.resources.includes("pods/log"));
        if (copy.roleRef) copy.roleRef.name = "cnidoctor-scan-nolog";
        if (copy.subjects) for (const s of copy.subjects) s.name = "cnidoctor-scan-nolog";
        return copy;
      });
    const variantFile = join(work, "nolog.yaml");
    writeFileSync(variantFile, variant.map((d) => toYaml(d)).join("---\n"));
    await kubectl(c.kubeconfig, ["apply", "-f", variantFile]);
    await untilAllowed(c.kubeconfig, "cnidoctor-scan-nolog", "nodes");
    const noLogToken = (
      await kubectl(c.kubeconfig, ["-n", "cnidoctor", "create", "token", "cnidoctor-scan-nolog"])
    ).trim();
    const noLog = await scanJson(tokenKubeconfig(c.kubeconfig, noLogToken, join(work, "nolog.kubeconfig")));
    assert.equal(noLog.code, 4, "a missing right is 'could not evaluate', never a clean pass");
    const logGaps = noLog.report.coverage.filter((x) => x.check === "logs" && x.status === "not-evaluated");
    // One gap per node and log container read (calico-node and, for the flannel advisory, kube-flannel).
    assert.equal(new Set(logGaps.map((g) => g.subject)).size, NODES);
    for (const g of logGaps) {
      assert.equal(g.material, true);
      assert.match(g.reason, /forbidden/);
    }
  });
});
