// buildPlan on the shipped example bundles: RKE2 (rke2-calico and rke2-canal), the FelixConfiguration
// patch with its env-override warning, the restart/limit/CronJob steps, Rancher-managed RKE2.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { diagnose } from "../analyze/diagnose.js";
import { collectBundle } from "../collect/bundle/collect-bundle.js";
import { compileSignatures } from "../logs/index.js";
import type { FileWriteStep, KubePatchStep, ManualStep, Plan } from "../model/plan.js";
import type { Snapshot } from "../model/snapshot.js";
import { buildPlan, DEFAULT_PLAN_OPTIONS } from "./index.js";

const EXAMPLES = new URL("../../../examples/", import.meta.url).pathname;
const advisory = (await loadAdvisories(SHIPPED_ADVISORIES_DIR)).find((a) => a.id === "CNID-2024-0001");
assert.ok(advisory);
const adv = advisory;
const now = new Date("2024-08-14T10:00:00Z");

async function snapshotOf(name: string): Promise<Snapshot> {
  return collectBundle(`${EXAMPLES}${name}`, {
    container: "calico-node",
    signatures: compileSignatures([adv]),
    now,
  });
}

function planFor(snapshot: Snapshot): Plan {
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

describe("RKE2", () => {
  test("rke2-calico: HelmChartConfig file with its server-node destination, and the smallest fixed release", async () => {
    // The example's nodes carry Rancher annotations; this case is the standalone cluster.
    const s = await snapshotOf("rke2-calico-at-risk");
    const plan = planFor({ ...s, rancherManaged: { value: false, from: { source: "file", ref: "test" } } });
    const hcc = plan.steps.find((s): s is FileWriteStep => s.id === "rke2-rke2-calico-disable-xdp");
    assert.ok(hcc, plan.steps.map((s) => s.id).join(", "));
    assert.equal(hcc.path, "/out/rke2-calico-config.yaml");
    assert.equal(hcc.destination, "/var/lib/rancher/rke2/server/manifests/rke2-calico-config.yaml");
    const doc = parse(hcc.content) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace: string };
      spec: { valuesContent: string };
    };
    assert.deepEqual(
      [doc.apiVersion, doc.kind, doc.metadata.name, doc.metadata.namespace],
      ["helm.cattle.io/v1", "HelmChartConfig", "rke2-calico", "kube-system"],
    );
    assert.deepEqual(parse(doc.spec.valuesContent), { felixConfiguration: { xdpEnabled: false } });
    const up = plan.steps.find((s): s is ManualStep => s.id === "rke2-upgrade");
    assert.ok(up);
    assert.match(up.title, /to v1\.30\.4\+rke2r1 \(rke2-calico v3\.28\.100, Calico v3\.28\.1\)/);
    const felix = plan.steps.find((s): s is KubePatchStep => s.id === "felix-disable-xdp");
    assert.match(felix?.notes.join(" ") ?? "", /prefer the HelmChartConfig/);
  });

  test("Rancher-managed RKE2: the chartValues form, never a file", async () => {
    const s = await snapshotOf("rke2-calico-at-risk");
    const plan = planFor({ ...s, rancherManaged: { value: true, from: { source: "file", ref: "test" } } });
    const step = plan.steps.find((x) => x.id === "rke2-rke2-calico-disable-xdp");
    assert.equal(step?.kind, "manual");
    assert.match(
      step?.diff ?? "",
      /chartValues:\n\+\s+rke2-calico:\n\+\s+felixConfiguration:\n\+\s+xdpEnabled: false/,
    );
  });

  test("rke2-canal with the chart default: says it needs nothing, offers no HelmChartConfig", async () => {
    const plan = planFor(await snapshotOf("rke2-canal-xdp-off"));
    assert.ok(!plan.steps.some((s) => s.id.startsWith("rke2-rke2-canal")));
    assert.match(plan.notes.join("\n"), /rke2-canal\): the chart disables XDP/);
    const felix = plan.steps.find((s) => s.id === "felix-disable-xdp");
    assert.match(felix?.notes.join(" ") ?? "", /FELIX_XDPENABLED=false .*already off/);
  });
});

describe("any Calico", () => {
  test("RKE1 canal: Felix patch (create-if-missing form), restart, memory limit with its trade-off, CronJob with least RBAC", async () => {
    const plan = planFor(await snapshotOf("rke1-canal-affected"));
    const felix = plan.steps.find((s): s is KubePatchStep => s.id === "felix-disable-xdp");
    assert.ok(felix);
    assert.deepEqual(felix.patch, { spec: { xdpEnabled: false } });
    assert.equal(felix.createIfMissing?.kind, "FelixConfiguration");
    assert.equal(felix.alreadyApplied, false);
    const limit = plan.steps.find((s): s is KubePatchStep => s.id === "limit-memory-kube-system-canal");
    assert.match(limit?.tradeoffs ?? "", /Too low breaks Felix/);
    assert.equal(limit?.patchType, "strategic");
    const restart = plan.steps.find((s) => s.id === "restart-kube-system-canal");
    assert.equal(restart?.default, false, "disruptive steps are opt-in");
    const cron = plan.steps.find((s): s is FileWriteStep => s.id === "scheduled-restart-kube-system-canal");
    assert.ok(cron);
    const kinds = parseAllDocuments(cron.content).map((d) => (d.toJS() as { kind: string }).kind);
    assert.deepEqual(kinds, [
      "ServiceAccount",
      "Role",
      "RoleBinding",
      "ClusterRole",
      "ClusterRoleBinding",
      "CronJob",
    ]);
    assert.match(cron.content, /- --only-symptomatic/);
    assert.doesNotMatch(cron.content, /secrets/);
    assert.match(plan.notes.join(" "), /2 affected, 2 at risk/);
  });
});

describe("RKE2 advice that fits the user's Rancher", () => {
  const fact = <T>(value: T) => ({ value, from: { source: "flag" as const, ref: "test" } });
  function rancherPlan(s: Snapshot, rancherVersion?: string): Plan {
    return buildPlan(
      {
        advisory: adv,
        snapshot: s,
        diagnosis: diagnose(s, adv),
        options: { ...DEFAULT_PLAN_OPTIONS, outputDir: "/out" },
        ...(rancherVersion !== undefined ? { rancherVersion: fact(rancherVersion) } : {}),
      },
      ["test"],
      now,
    );
  }
  const upgrade = (p: Plan) => p.steps.find((s): s is ManualStep => s.id === "rke2-upgrade");

  test("Rancher 2.9 is offered v1.30.4 after a metadata refresh; Rancher 2.10 gets v1.30.5", async () => {
    const s = await snapshotOf("rke2-calico-at-risk");
    assert.equal(s.rancher?.provisioning.value, "provisioned");
    const r29 = upgrade(rancherPlan(s, "v2.9.1"));
    const r210 = upgrade(rancherPlan(s, "v2.10.0"));
    assert.match(r29?.title ?? "", /to v1\.30\.4\+rke2r1/);
    assert.match(
      r29?.notes.join(" ") ?? "",
      /by 2024-08-29.*refresh Rancher's Kubernetes metadata; no Rancher upgrade/,
    );
    assert.match(r210?.title ?? "", /to v1\.30\.5\+rke2r1/);
    assert.match(r210?.instructions.join(" ") ?? "", /in Rancher .* to v1\.30\.5\+rke2r1/);
  });

  test("Rancher 2.8 cannot run RKE2 1.30: no upgrade step, the note says which Rancher it needs", async () => {
    const s = await snapshotOf("rke2-calico-at-risk");
    const p = rancherPlan(s, "v2.8.8");
    assert.equal(upgrade(p), undefined);
    assert.match(
      p.notes.join("\n"),
      /Rancher v2\.8\.8 .*offers no fixed rke2-calico release of the v1\.30 line.*v2\.9\.0-alpha1/,
    );
  });

  test("Rancher version unknown: the plan says what differs by version", async () => {
    const s = await snapshotOf("rke2-calico-at-risk");
    const notes = upgrade(
      rancherPlan({
        ...s,
        rancher: { provisioning: s.rancher?.provisioning ?? fact("provisioned" as const) },
      }),
    )?.notes.join(" ");
    assert.match(
      notes ?? "",
      /v1\.30\.4\+rke2r1 for Rancher v2\.9\.0-alpha1\.\.v2\.9\.99.*v1\.30\.5\+rke2r1 for Rancher v2\.9\.0-alpha1\.\.v2\.10\.99/,
    );
  });

  test("an imported RKE2 cluster gets the HelmChartConfig file; unknown gets both forms, opt-in", async () => {
    const s = await snapshotOf("rke2-calico-at-risk");
    const imported: Snapshot = {
      ...s,
      rancher: { provisioning: { value: "imported", from: { source: "node", ref: "no markers" } } },
    };
    const hcc = rancherPlan(imported).steps.find((x) => x.id === "rke2-rke2-calico-disable-xdp");
    assert.equal(hcc?.kind, "file-write");
    assert.match(hcc?.notes.join(" ") ?? "", /Rancher imported this cluster/);
    const unknown: Snapshot = {
      ...s,
      rancher: { provisioning: { value: "unknown", from: { source: "node", ref: "nodes unreadable" } } },
    };
    const both = rancherPlan(unknown).steps.find(
      (x): x is ManualStep => x.id === "rke2-rke2-calico-disable-xdp",
    );
    assert.equal(both?.kind, "manual");
    assert.equal(both?.default, false);
    assert.match(both?.instructions.join("\n") ?? "", /chartValues[\s\S]*HelmChartConfig/);
  });
});

describe("imported vs provisioned, told from the bundle's own nodes", () => {
  test("the example's nodes without Rancher's provisioning markers: imported, HelmChartConfig file, evidence named", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cnid-imported-"));
    try {
      await cp(`${EXAMPLES}rke2-calico-at-risk`, dir, { recursive: true });
      const nodesPath = join(dir, "nodes.json");
      const nodes = JSON.parse(await readFile(nodesPath, "utf8")) as {
        items: { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }[];
      };
      for (const n of nodes.items) {
        const m = n.metadata;
        m.labels = Object.fromEntries(
          Object.entries(m.labels ?? {}).filter(([k]) => k !== "rke.cattle.io/machine"),
        );
        m.annotations = Object.fromEntries(
          Object.entries(m.annotations ?? {}).filter(([k]) => !k.startsWith("cluster.x-k8s.io/")),
        );
      }
      await writeFile(nodesPath, JSON.stringify(nodes));
      const s = await collectBundle(dir, {
        container: "calico-node",
        signatures: compileSignatures([adv]),
        now,
      });
      assert.equal(s.rancherManaged?.value, true, "the cattle-cluster-agent still runs");
      assert.equal(s.rancher?.provisioning.value, "imported");
      const plan = planFor(s);
      const hcc = plan.steps.find((x): x is FileWriteStep => x.id === "rke2-rke2-calico-disable-xdp");
      assert.equal(hcc?.kind, "file-write");
      assert.equal(hcc?.destination, "/var/lib/rancher/rke2/server/manifests/rke2-calico-config.yaml");
      assert.match(hcc?.notes.join(" ") ?? "", /none of 3 nodes carries rke\.cattle\.io\/machine/);
      const up = plan.steps.find((x): x is ManualStep => x.id === "rke2-upgrade");
      assert.match(
        up?.notes.join(" ") ?? "",
        /Rancher imported this cluster.*upgrading RKE2 on the nodes yourself/,
      );
      // The same bundle as shipped (markers present) is provisioned: chartValues, never a file.
      const provisioned = planFor(await snapshotOf("rke2-calico-at-risk")).steps.find(
        (x) => x.id === "rke2-rke2-calico-disable-xdp",
      );
      assert.equal(provisioned?.kind, "manual");
      assert.match(
        provisioned?.notes.join(" ") ?? "",
        /node edge-cp-01 carries label rke\.cattle\.io\/machine/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("RKE1 read from the cluster, without its cluster.yml", () => {
  const upgrade = (p: Plan) => p.steps.find((s): s is ManualStep => s.id === "rke1-upgrade-kubernetes");

  test("RKE CLI cluster: the version upgrade from the kubelet version, with the rke --version check", async () => {
    const s = await snapshotOf("rke1-canal-affected");
    const step = upgrade(planFor(s));
    assert.match(step?.title ?? "", /v1\.30\.3-rancher1-1 to v1\.30\.4-rancher1-1/);
    assert.equal(step?.default, false);
    assert.match(step?.instructions.join(" ") ?? "", /`rke --version` must be v1\.6\.2 or later/);
  });

  test("Rancher-managed RKE1: the Rancher path needs no RKE CLI and names the Rancher gate", async () => {
    const s = await snapshotOf("rke1-canal-affected");
    const managed: Snapshot = {
      ...s,
      rancherManaged: { value: true, from: { source: "node", ref: "cattle-cluster-agent" } },
    };
    const step = upgrade(planFor(managed));
    const rancherLine = step?.instructions.find((l) => l.startsWith("If Rancher provisioned"));
    assert.ok(rancherLine);
    assert.match(rancherLine, /no RKE CLI is involved/);
    assert.doesNotMatch(rancherLine, /rke --version/);
    assert.match(rancherLine, /Rancher 2\.9\.0 or later with Kubernetes metadata refreshed after 2024-09-17/);
  });

  test("a fixed cluster gets no upgrade step", async () => {
    assert.equal(upgrade(planFor(await snapshotOf("healthy"))), undefined);
  });
});

describe("an advisory gets steps only for the remediations it lists", () => {
  const planWith = (a: typeof adv, snapshot: Snapshot): Plan =>
    buildPlan(
      { advisory: a, snapshot, diagnosis: diagnose(snapshot, a), options: DEFAULT_PLAN_OPTIONS },
      ["test"],
      now,
    );
  test("listing only the Felix remediation gives only the Felix step", async () => {
    const s = await snapshotOf("rke1-canal-affected");
    const felixOnly = {
      ...adv,
      remediations: adv.remediations.filter((r) => r.id === "felixconfiguration-disable-xdp"),
    };
    const ids = new Set(planWith(felixOnly, s).steps.map((x) => x.remediationId));
    assert.deepEqual([...ids], ["felixconfiguration-disable-xdp"]);
    // The shipped advisory lists them all: every planner contributes.
    assert.ok(new Set(planWith(adv, s).steps.map((x) => x.remediationId)).size > 3);
  });
  test("remediations no planner implements give no step, and a note that says so", async () => {
    const s = await snapshotOf("rke1-canal-affected");
    const [extra] = await loadAdvisories(new URL("../../../src/analyze/testdata/", import.meta.url).pathname);
    assert.ok(extra);
    const plan = planWith(extra, s);
    assert.deepEqual(plan.steps, []);
    assert.ok(
      plan.notes.some((n) =>
        n.startsWith("No step is generated for CNID-2099-0001's remediations (upgrade)"),
      ),
    );
  });
});
