// The pipeline is the same for every target: a bundle, log files and a live cluster go through
// the same collect → analyse → report stages, and a second advisory is only a data file.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "./advisories/load.js";
import { exitCodeFor } from "./analyze/findings.js";
import { KubeClient } from "./kube/client.js";
import { logSourcesOf } from "./collect/logs/collect-logs.js";
import { defaultVersionTables } from "./versions/tables.js";
import { collectScope, runPipeline, type PipelineInput } from "./pipeline.js";
import { conditionTypeFor } from "./agent/conditions.js";
import { alertRuleGroups } from "./remediate/alerts.js";
import { renderReport } from "./report/index.js";
import { buildPlan, DEFAULT_PLAN_OPTIONS } from "./remediate/index.js";
import { writeBundle } from "./collect/live/write-bundle.js";
import type { Advisory } from "./model/advisory.js";
import type { Report, SubjectVerdict } from "./model/finding.js";
import { flannelLogText } from "../scripts/fixtures/flannel-log.js";
import { serveBundle } from "../scripts/fixtures/bundle-api.js";
import { samples, servePrometheus } from "../scripts/fixtures/prometheus-api.js";
import type { MatrixSeries } from "./collect/prometheus/client.js";

const TESTDATA = fileURLToPath(new URL("../../src/analyze/testdata/", import.meta.url));
const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const BASICS: Pick<PipelineInput, "tool" | "now"> = {
  tool: { name: "t", version: "0" },
  now: new Date("2024-09-01T12:00:00Z"),
};

test("a second advisory needs only a data file", async () => {
  const shipped = await loadAdvisories();
  const extra = await loadAdvisories(TESTDATA);
  const advisories = [...shipped, ...extra];
  assert.deepEqual(
    advisories.map((a) => a.id),
    ["CNID-2021-0001", "CNID-2024-0001", "CNID-2024-0002", "CNID-2099-0001"],
  );
  const dir = await mkdtemp(join(tmpdir(), "cnid-pipeline-"));
  const file = join(dir, "felix.log");
  await writeFile(
    file,
    [
      "2024-09-01 10:00:00.000 [INFO][52] felix/summary.go 100: Summarising 3 dataplane reconciliation loops",
      "2024-09-01 10:00:01.000 [WARNING][52] felix/route_table.go 812: synthetic route sync failure ifaceName=cali123",
      "2024-09-01 10:30:01.000 [WARNING][52] felix/route_table.go 812: synthetic route sync failure ifaceName=cali456",
      "",
    ].join("\n"),
  );
  const { report, snapshot } = await runPipeline({
    target: { kind: "logs", name: file, sources: await logSourcesOf([file]) },
    advisories,
    ...BASICS,
  });
  assert.equal(snapshot.target.kind, "logs");
  assert.equal(snapshot.logs.length, 1);
  const byAdvisory = Object.fromEntries(report.findings.map((f) => [f.advisoryId, f.status]));
  assert.equal(byAdvisory["CNID-2099-0001"], "affected");
  assert.equal(byAdvisory["CNID-2024-0001"], "unknown");
  assert.equal(exitCodeFor(report), 3);
  const symptom = report.findings
    .find((f) => f.advisoryId === "CNID-2099-0001")
    ?.evidence.find((e) => e.kind === "symptom");
  assert.equal(symptom?.data?.count, 2);
  assert.equal(symptom?.data?.ratePerHour, 4);
  // The verdict says why in the advisory's words for that signature.
  const verdict = report.verdicts.find((g) => g.advisoryId === "CNID-2099-0001")?.verdicts[0];
  assert.deepEqual(verdict?.reasons, ["Felix failed to sync its routes 2 time(s)"]);
});

test("a second advisory's column, alert names and Node condition type come from its data", async () => {
  const shipped = (await loadAdvisories()).find((a) => a.id === "CNID-2024-0001");
  const [extra] = await loadAdvisories(TESTDATA);
  assert.ok(shipped !== undefined && extra !== undefined);
  const { report } = await runPipeline({
    target: { kind: "bundle", dir: join(EXAMPLES, "rke1-canal-affected") },
    advisories: [shipped, extra],
    ...BASICS,
  });
  const table = renderReport(report, "table", { color: false });
  const [first, second] = table.split(/^CNID-2099-0001$/m);
  assert.match(first ?? "", /^NODE +STATUS +CALICO +XDP \(SOURCE\) +KERNEL/m);
  assert.doesNotMatch(first ?? "", /DATAPLANE/);
  assert.match(second ?? "", /^NODE +STATUS +CALICO +DATAPLANE \(SOURCE\) +KERNEL/m);
  // The cell is the typed setting fact of the column's condition: bpfEnabled, not xdpEnabled.
  assert.match(second ?? "", /^rke1-wk-01 .* false · Felix default false/m);
  const markdown = renderReport(report, "markdown", { color: false });
  assert.match(markdown, /\| Node \| Status \| Calico \| Dataplane \(source\) \| Kernel \|/);
  const html = renderReport(report, "html", { color: false });
  assert.match(html, /<th>Dataplane \(source\)<\/th>/);
  const alerts = (a: typeof extra): (string | undefined)[] =>
    alertRuleGroups(a).flatMap((g) => g.rules.map((r) => r.alert).filter((x) => x !== undefined));
  assert.deepEqual(alerts(extra).slice(0, 2), ["FelixRouteSyncFailureSeen", "FelixRouteSyncStorm"]);
  assert.deepEqual(alerts(shipped).slice(0, 2), ["CalicoXdpBtfSignatureSeen", "CalicoXdpBtfRetryStorm"]);
  const rate = alertRuleGroups(extra)[0]?.rules.find((r) => r.alert === "FelixRouteSyncStorm");
  assert.equal(rate?.annotations?.summary, "CNID-2099-0001 route sync storm on {{ $labels.node }}");
  assert.equal(conditionTypeFor(extra), "FelixRouteSyncStorm");
  assert.equal(conditionTypeFor(shipped), "CalicoXDPRetryLoop");
  // Without presentation data an advisory still gets working, generic names.
  const bare = { ...extra };
  delete bare.presentation;
  assert.deepEqual(alerts(bare).slice(0, 2), [
    "CnidoctorCnid20990001SignatureSeen",
    "CnidoctorCnid20990001SignatureRate",
  ]);
  assert.equal(conditionTypeFor(bare), "CnidoctorCNID20990001");
});

test("a bundle goes through the same stages; the platform section only when asked and judgeable", async () => {
  const advisories = await loadAdvisories();
  const target = { kind: "bundle", dir: join(EXAMPLES, "rke1-canal-affected") } as const;
  const plain = await runPipeline({ target, advisories, ...BASICS });
  assert.equal(plain.snapshot.target.kind, "bundle");
  assert.equal(plain.diagnoses.length, advisories.length);
  assert.ok(plain.report.summary.affected > 0, "the affected example is affected");
  assert.equal(plain.report.platform, undefined);
  // Tables alone, with no Rancher version and no KDM file, give nothing to judge.
  const tablesOnly = await runPipeline({
    target,
    advisories,
    versions: { tables: defaultVersionTables() },
    ...BASICS,
  });
  assert.equal(tablesOnly.report.platform, undefined);
  const withRancher = await runPipeline({
    target,
    advisories,
    versions: {
      tables: defaultVersionTables(),
      rancher: { value: "v2.9.1", from: { source: "flag", ref: "--rancher v2.9.1" } },
    },
    ...BASICS,
  });
  assert.notEqual(withRancher.report.platform, undefined);
  // The verdicts do not depend on the platform section.
  assert.deepEqual(withRancher.report.findings, plain.report.findings);
});

test("a live target's session is closed when its collector fails", async () => {
  const advisories = await loadAdvisories();
  let closed = 0;
  const client = KubeClient.fromEndpoint(
    { server: "http://127.0.0.1:9", headers: {}, description: "test", context: "nowhere" },
    {
      timeoutMs: 2000,
      qps: 100,
      burst: 100,
      maxSockets: 2,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, random: () => 0 },
    },
  );
  const input: PipelineInput = {
    target: {
      kind: "live",
      open: () =>
        Promise.resolve({
          client,
          context: "nowhere",
          close: () => {
            closed++;
            client.close();
          },
        }),
      read: { bounds: { sinceSeconds: 60, limitBytes: 1024 }, concurrency: 1, sampleSeconds: 0 },
    },
    advisories,
    ...BASICS,
  };
  await assert.rejects(runPipeline(input));
  assert.equal(closed, 1);
});

// --- CNID-2021-0001: detected from settings and node facts, with no error log of its own ---

const VXLAN_ID = "CNID-2021-0001";

async function vxlanAdvisory(): Promise<Advisory> {
  const found = (await loadAdvisories()).find((a) => a.id === VXLAN_ID);
  assert.ok(found);
  return found;
}

async function vxlanVerdicts(
  example: string,
): Promise<{ report: Report; byNode: Record<string, SubjectVerdict> }> {
  const { report } = await runPipeline({
    target: { kind: "bundle", dir: join(EXAMPLES, example) },
    advisories: [await vxlanAdvisory()],
    ...BASICS,
  });
  const verdicts = report.verdicts.find((g) => g.advisoryId === VXLAN_ID)?.verdicts ?? [];
  return { report, byNode: Object.fromEntries(verdicts.map((v) => [v.subject, v])) };
}

test("VXLAN offload on vSphere: affected where the node agent saw checksum errors, at risk elsewhere", async () => {
  const { report, byNode } = await vxlanVerdicts("vxlan-vsphere-affected");
  assert.equal(byNode["vmw-agt-01"]?.status, "affected");
  assert.equal(byNode["vmw-agt-02"]?.status, "affected");
  assert.equal(byNode["vmw-srv-01"]?.status, "at-risk");
  assert.match(byNode["vmw-agt-01"]?.reasons.join("\n") ?? "", /corroborated by checksum-errors-seen/);
  // Where it was read: the ConfigMap's JSON key, the node's providerID, the agent's files.
  const sources = (byNode["vmw-agt-01"]?.evidence ?? []).map((e) => e.source ?? "");
  assert.ok(
    sources.some((s) => /kube-system\/configmaps\.json ConfigMap kube-system\/rke2-canal-config$/.test(s)),
  );
  assert.ok(sources.some((s) => s === "node vmw-agt-01 spec.providerID"));
  assert.ok(sources.some((s) => /node-facts\.json: \/proc\/net\/snmp Udp InCsumErrors$/.test(s)));
  // The quiet node says exactly what did not corroborate it: both facts read, neither seen.
  assert.match(
    byNode["vmw-srv-01"]?.reasons.join("\n") ?? "",
    /not corroborated; missing: udp-checksum-errors-rising \(not seen: UDP InCsumErrors did not rise from 0 to 0.*\); udp-bad-checksum-log \(not seen: /,
  );
  assert.equal(exitCodeFor(report), 3);
  assert.equal(report.findings.find((f) => f.status === "affected")?.nodes.length, 2);
});

test("VXLAN offload on vSphere without node agent data is at risk, never affected, and names the missing facts", async () => {
  const { report, byNode } = await vxlanVerdicts("vxlan-vsphere-at-risk");
  for (const v of Object.values(byNode)) {
    assert.equal(v.status, "at-risk", v.subject);
    const missing = v.reasons.find((r) => r.startsWith("not corroborated"));
    assert.equal(
      missing,
      `not corroborated; missing: udp-checksum-errors-rising (not available: udpInCsumErrorsRising is not available in a bundle scan: no node agent data for node ${v.subject}); udp-bad-checksum-log (not available: kernelLog is not available in a bundle scan: no node agent data for node ${v.subject}); to read them: set agent.nodeFacts.enabled=true in the cnidoctor-agent Helm chart (the agent then reads node facts) and scan with --prometheus URL of the Prometheus that scrapes the agent`,
    );
  }
  assert.ok(report.coverage.some((c) => c.check === "node-agent" && c.status === "not-evaluated"));
  assert.equal(
    report.findings.some((f) => f.status === "affected"),
    false,
  );
});

/** The agent's node fact series in a fake Prometheus: rising on esx-agt-01, flat on esx-agt-02. */
function agentSeries(end: number): Record<string, MatrixSeries[]> {
  const at = (values: number[]): [number, string][] => samples(end, 60, values);
  return {
    cnidoctor_agent_up: [
      { metric: { node: "esx-agt-01" }, values: at([1, 1, 1]) },
      { metric: { node: "esx-agt-02" }, values: at([1, 1, 1]) },
    ],
    cnidoctor_node_fact_read_success: ["esx-agt-01", "esx-agt-02"].flatMap((node) =>
      ["nic_driver", "udp_in_csum_errors"].map((fact) => ({ metric: { node, fact }, values: at([1, 1]) })),
    ),
    cnidoctor_node_nic_info: ["esx-agt-01", "esx-agt-02"].map((node) => ({
      metric: { node, interface: "ens192", driver: "vmxnet3" },
      values: at([1, 1]),
    })),
    cnidoctor_node_udp_in_csum_errors_total: [
      { metric: { node: "esx-agt-01" }, values: at([412, 700, 1187]) },
      { metric: { node: "esx-agt-02" }, values: at([96, 96, 96]) },
      // A node of another cluster reporting to the same Prometheus: ignored.
      { metric: { node: "esx-srv-99" }, values: at([0, 5000]) },
    ],
  };
}

test("VXLAN offload with --prometheus: the agent's series corroborate one node; the others say what is missing", async () => {
  const end = Math.floor(BASICS.now.getTime() / 1000);
  const prom = await servePrometheus(agentSeries(end));
  try {
    const { report, snapshot } = await runPipeline({
      target: { kind: "bundle", dir: join(EXAMPLES, "vxlan-vsphere-at-risk") },
      advisories: [await vxlanAdvisory()],
      prometheus: { target: { url: prom.url }, windowSeconds: 3600, windowLabel: "1h" },
      ...BASICS,
    });
    const verdicts = report.verdicts.find((g) => g.advisoryId === VXLAN_ID)?.verdicts ?? [];
    const byNode = Object.fromEntries(verdicts.map((v) => [v.subject, v]));
    assert.deepEqual(
      verdicts.map((v) => [v.subject, v.status]),
      [
        ["esx-agt-01", "affected"],
        ["esx-agt-02", "at-risk"],
        ["esx-srv-01", "at-risk"],
      ],
    );
    assert.ok(!snapshot.agentFacts?.some((f) => f.node === "esx-srv-99"));
    const hot = byNode["esx-agt-01"];
    assert.match(
      hot?.reasons.join("\n") ?? "",
      /corroborated by checksum-errors-seen: .*UDP InCsumErrors rose by 775 from 412 to 1187 \(read by the node agent, from Prometheus at 2024-09-01T12:00:00Z\)/,
    );
    const rising = hot?.evidence.find((e) => e.data?.condition === "udp-checksum-errors-rising");
    assert.equal(
      rising?.source,
      `Prometheus ${prom.url} cnidoctor_node_udp_in_csum_errors_total{node="esx-agt-01"} over 2024-09-01T11:00:00Z – 2024-09-01T12:00:00Z`,
    );
    const nic = hot?.evidence.find((e) => e.data?.condition === "vmxnet3-nic");
    assert.match(
      nic?.message ?? "",
      /default-route NIC driver vmxnet3 \(read by the node agent, from Prometheus at /,
    );
    assert.match(
      byNode["esx-agt-02"]?.reasons.join("\n") ?? "",
      /missing: udp-checksum-errors-rising \(not seen: UDP InCsumErrors did not rise from 96 to 96 .*\); udp-bad-checksum-log \(not read: the kernel log was not read by the agent: Prometheus .* has no cnidoctor_node_kernel_log_matches_total series for node esx-agt-02 in the last 1h\)$/,
    );
    // No agent scraped on esx-srv-01: the reason says so and what would fix it.
    assert.match(
      byNode["esx-srv-01"]?.reasons.join("\n") ?? "",
      /udp-checksum-errors-rising \(not available: udpInCsumErrorsRising is not available: Prometheus .* has no cnidoctor_agent_up series for node esx-srv-01 in the last 1h: no node agent on it is scraped\).*; to read them: have Prometheus scrape the node agent \(Helm value monitors\.podMonitor\.enabled=true\) and set agent\.nodeFacts\.enabled=true/,
    );
    // The bundle's "no node-facts.json" gap gives way to what Prometheus showed.
    const agentCoverage = report.coverage.filter((c) => c.check === "node-agent");
    assert.equal(agentCoverage.length, 1);
    assert.match(
      agentCoverage[0]?.reason ?? "",
      /no node facts for 1 of 3 node\(s\) in the last 1h: no node agent scraped on esx-srv-01/,
    );
    assert.ok(prom.asked.some((q) => q.includes("max by (node) (cnidoctor_node_udp_in_csum_errors_total)")));
  } finally {
    await prom.close();
  }
});

test("a live scan with --prometheus reads node facts from the agent's series instead of saying it cannot", async () => {
  const served = await serveBundle(join(EXAMPLES, "vxlan-vsphere-at-risk"));
  const prom = await servePrometheus(agentSeries(Math.floor(BASICS.now.getTime() / 1000)));
  try {
    const { report } = await runPipeline({
      ...liveInput(served.client, [await vxlanAdvisory()]),
      prometheus: { target: { url: prom.url }, windowSeconds: 3600, windowLabel: "1h" },
    });
    assert.deepEqual(statusesOf(report, VXLAN_ID), {
      "esx-agt-01": "affected",
      "esx-agt-02": "at-risk",
      "esx-srv-01": "at-risk",
    });
    const gaps = report.coverage.filter((c) => c.check === "node-agent").map((c) => c.reason);
    assert.equal(gaps.length, 1);
    assert.doesNotMatch(gaps[0] ?? "", /live scan reads/);
    assert.match(gaps[0] ?? "", /no node agent scraped on esx-srv-01/);
  } finally {
    await prom.close();
    await served.close();
  }
});

test("with every node's facts in Prometheus, node facts are an evaluated check", async () => {
  const end = Math.floor(BASICS.now.getTime() / 1000);
  const series = agentSeries(end);
  series.cnidoctor_node_udp_in_csum_errors_total?.push({
    metric: { node: "esx-srv-01" },
    values: samples(end, 60, [3, 3]),
  });
  const prom = await servePrometheus(series);
  try {
    const { report } = await runPipeline({
      target: { kind: "bundle", dir: join(EXAMPLES, "vxlan-vsphere-at-risk") },
      advisories: [await vxlanAdvisory()],
      prometheus: { target: { url: prom.url }, windowSeconds: 3600, windowLabel: "1h" },
      ...BASICS,
    });
    assert.deepEqual(
      report.coverage.filter((c) => c.check === "node-agent"),
      [
        {
          check: "node-agent",
          status: "evaluated",
          reason: `node facts of 3 node(s) from the node agent's series in Prometheus ${prom.url}`,
        },
      ],
    );
  } finally {
    await prom.close();
  }
});

test("RKE2 calico: the chart's featureDetectOverride protects; removing it puts vSphere nodes at risk", async () => {
  const protectedRun = await vxlanVerdicts("calico-vxlan-protected");
  for (const v of Object.values(protectedRun.byNode)) {
    assert.equal(v.status, "not-affected", v.subject);
    // Felix's own start-up line is what decided the flag.
    assert.ok(v.evidence.some((e) => /Felix logged ChecksumOffloadBroken=true/.test(e.message)));
  }
  const removed = await vxlanVerdicts("calico-vxlan-override-removed");
  for (const v of Object.values(removed.byNode)) {
    assert.equal(v.status, "at-risk", v.subject);
    assert.ok(
      v.evidence.some((e) =>
        /calico-vxlan-pool: .*default-ipv4-ippool spec\.vxlanMode=Always/.test(e.message),
      ),
    );
  }
});

test("lookalikes are not flagged: IPIP pools, the eBPF dataplane, a quiet vSphere node, canal off VMware", async () => {
  for (const example of ["calico-ipip-lookalike", "ebpf-lookalike", "healthy", "rke2-canal-xdp-off"]) {
    const { byNode } = await vxlanVerdicts(example);
    assert.ok(Object.keys(byNode).length > 0, example);
    for (const v of Object.values(byNode)) assert.equal(v.status, "not-affected", `${example} ${v.subject}`);
  }
  const ebpf = await vxlanVerdicts("ebpf-lookalike");
  assert.match(Object.values(ebpf.byNode)[0]?.reasons[0] ?? "", /eBPF dataplane/);
});

test("VXLAN advisory through every report format, its alert names, the agent's condition type and plan", async () => {
  const advisory = await vxlanAdvisory();
  const { report } = await vxlanVerdicts("vxlan-vsphere-affected");
  const table = renderReport(report, "table", { color: false });
  assert.match(table, /^NODE +STATUS +CALICO +VXLAN OFFLOAD \(SOURCE\) +KERNEL/m);
  assert.match(table, /^vmw-agt-01 +affected +v3\.29\.2 +true · /m);
  assert.match(renderReport(report, "markdown", { color: false }), /\| Vxlan offload \(source\) \|/i);
  assert.match(renderReport(report, "html", { color: false }), /<th>VXLAN OFFLOAD \(source\)<\/th>/i);
  const json = JSON.parse(renderReport(report, "json", { color: false })) as Report;
  assert.equal(json.findings.find((f) => f.status === "affected")?.advisoryId, VXLAN_ID);
  const alertNames = alertRuleGroups(advisory).flatMap((g) =>
    g.rules.flatMap((r) => (r.alert !== undefined ? [r.alert] : [])),
  );
  assert.deepEqual(alertNames.slice(0, 2), ["VxlanChecksumErrorsSeen", "VxlanChecksumErrorStorm"]);
  // The alert selects the node facts the agent counts, not a log signature.
  const seen = alertRuleGroups(advisory)[0]?.rules.find((r) => r.alert === "VxlanChecksumErrorsSeen");
  assert.match(seen?.expr ?? "", /signature=~"udp-checksum-errors-rising\|udp-bad-checksum-log"/);
  assert.equal(conditionTypeFor(advisory), "VXLANChecksumOffloadErrors");
});

test("a live scan reads the named ConfigMaps and IPPools and says node facts are not available", async () => {
  const advisory = await vxlanAdvisory();
  const served = await serveBundle(join(EXAMPLES, "vxlan-vsphere-affected"));
  try {
    const { report, snapshot } = await runPipeline({
      target: {
        kind: "live",
        open: () => Promise.resolve({ client: served.client, context: "fake", close: () => undefined }),
        read: { bounds: { sinceSeconds: 600, limitBytes: 1 << 20 }, concurrency: 2, sampleSeconds: 0 },
      },
      advisories: [advisory],
      ...BASICS,
    });
    assert.deepEqual(
      snapshot.objects?.configmaps?.items.map((o) => `${o.namespace}/${o.name}`),
      ["kube-system/rke2-canal-config"],
    );
    // One GET per named ConfigMap: never a list of ConfigMaps, never Secrets.
    assert.ok(
      served.paths.every((p) => !/\/configmaps(\?|$)/.test(p) && !/secrets/.test(p)),
      served.paths.join("\n"),
    );
    assert.ok(served.paths.includes("/api/v1/namespaces/kube-system/configmaps/rke2-canal-config"));
    const verdicts = report.verdicts[0]?.verdicts ?? [];
    assert.equal(verdicts.length, 3);
    for (const v of verdicts) {
      assert.equal(v.status, "at-risk", v.subject);
      assert.match(v.reasons.join("\n"), /not available in a live scan: no node agent data/);
    }
    assert.ok(
      report.coverage.some(
        (c) =>
          c.check === "node-agent" &&
          /live scan reads node agent data .* only from the agent's series in Prometheus: set agent\.nodeFacts\.enabled=true in the cnidoctor-agent Helm chart and scan with --prometheus URL/.test(
            c.reason,
          ),
      ),
    );
  } finally {
    await served.close();
  }
});

function liveInput(client: KubeClient, advisories: PipelineInput["advisories"]): PipelineInput {
  return {
    target: {
      kind: "live",
      open: () => Promise.resolve({ client, context: "fake", close: () => undefined }),
      read: { bounds: { sinceSeconds: 0, limitBytes: 0 }, concurrency: 2, sampleSeconds: 0 },
    },
    advisories,
    ...BASICS,
  };
}

function statusesOf(report: Report, advisoryId: string): Record<string, string> {
  const group = report.verdicts.find((g) => g.advisoryId === advisoryId);
  return Object.fromEntries((group?.verdicts ?? []).map((v) => [v.subject, v.status]));
}

describe("CNID-2024-0002 (flannel v0.24.3 IPv6 loop) through every target", () => {
  const LOOP = join(EXAMPLES, "rke2-canal-flannel-loop");
  const PINNED = join(EXAMPLES, "rke2-canal-flannel-pinned");
  const EXPECTED = { "v4-agt-01": "affected", "v4-agt-02": "at-risk", "v4-srv-01": "affected" };

  test("bundle: the kube-flannel logs decide, its image gives the flannel version", async () => {
    const advisories = await loadAdvisories();
    const { report, snapshot } = await runPipeline({
      target: { kind: "bundle", dir: LOOP },
      advisories,
      ...BASICS,
    });
    assert.deepEqual(
      [...new Set(snapshot.logs.map((l) => (l.source.kind === "pod" ? l.source.container : "")))].sort(),
      ["calico-node", "kube-flannel"],
    );
    assert.deepEqual(statusesOf(report, "CNID-2024-0002"), EXPECTED);
    const group = report.verdicts.find((g) => g.advisoryId === "CNID-2024-0002");
    const affected = group?.verdicts.find((v) => v.subject === "v4-agt-01");
    const text = (affected?.evidence ?? []).map((e) => e.message).join("\n");
    assert.match(text, /flannel v0\.24\.3 is an affected version/);
    assert.match(text, /flanneld log line numbers match flannel v0\.24\.3/);
    assert.match(text, /ipv6-restore-loop from 2024-08-14T09:00:02\.420Z/);
    // The klog stamps carry no year: it came from the pod's start, and the verdict says so.
    assert.ok(affected?.evidence.some((e) => e.kind === "note" && /pod's start time/.test(e.message)));
    assert.deepEqual(affected?.reasons.slice(0, 1), [
      'flanneld\'s IPv6 rule loop failed 36 time(s) with "iptables-restore (, ): exit status 4" from iptables.go:427/440, the lines of the v0.24.3 IPv6 loop',
    ]);
    const coverage = report.coverage.find((c) => c.check === "logs");
    assert.match(coverage?.reason ?? "", /^3 calico-node and 3 kube-flannel log source\(s\) scanned/);
    // The report formats name the flannel column and carry the advisory's row.
    const table = renderReport(report, "table", { color: false });
    assert.match(
      table,
      /^CNID-2024-0002 flannel v0\.24\.3 IPv6 .* AFFECTED on 2 of 3 nodes \(at risk on 1\)$/m,
    );
    assert.match(table, /^NODE +STATUS +FLANNEL +KERNEL +SYMPTOMS/m);
    assert.match(
      renderReport(report, "markdown", { color: false }),
      /\| Node \| Status \| flannel \| Kernel \|/,
    );
    assert.match(renderReport(report, "html", { color: false }), /<th>flannel<\/th>/);
    const json = JSON.parse(renderReport(report, "json", { color: false })) as Report;
    assert.equal(json.findings.find((f) => f.advisoryId === "CNID-2024-0002")?.status, "affected");
    assert.match(renderReport(report, "yaml", { color: false }), /advisoryId: CNID-2024-0002/);
  });

  test("bundle: flannel v0.24.4 with flannel#2145's lookalike is not affected", async () => {
    const advisories = await loadAdvisories();
    const { report } = await runPipeline({ target: { kind: "bundle", dir: PINNED }, advisories, ...BASICS });
    assert.deepEqual(statusesOf(report, "CNID-2024-0002"), {
      "pin-agt-01": "not-affected",
      "pin-agt-02": "not-affected",
      "pin-srv-01": "not-affected",
    });
    const v = report.verdicts
      .find((g) => g.advisoryId === "CNID-2024-0002")
      ?.verdicts.find((x) => x.subject === "pin-agt-01");
    assert.ok(v?.evidence.some((e) => e.kind === "lookalike" && /lookalike-bad-rule/.test(e.message)));
    assert.ok(!v?.evidence.some((e) => e.data?.role === "symptom"));
  });

  test("logs: a kube-flannel capture is judged on its klog lines and line numbers", async () => {
    const advisories = await loadAdvisories();
    const dir = await mkdtemp(join(tmpdir(), "cnid-flannel-"));
    const loop = flannelLogText({
      kind: "ipv6-loop",
      version: "v0.24.3",
      start: new Date("2024-03-18T09:30:00Z"),
      durationSeconds: 120,
      iface: "eth0",
    });
    const lookalike = flannelLogText({
      kind: "bad-rule-lookalike",
      version: "v0.24.4",
      start: new Date("2024-03-18T09:30:00Z"),
      durationSeconds: 120,
      iface: "eth0",
    });
    const files = { loop: join(dir, "loop.log"), lookalike: join(dir, "lookalike.log") };
    await writeFile(files.loop, loop);
    await writeFile(files.lookalike, lookalike);
    const judge = async (file: string): Promise<Report> =>
      (
        await runPipeline({
          target: { kind: "logs", name: file, sources: await logSourcesOf([file]) },
          advisories,
          ...BASICS,
        })
      ).report;
    const affected = await judge(files.loop);
    assert.equal(affected.findings.find((f) => f.advisoryId === "CNID-2024-0002")?.status, "affected");
    assert.equal(exitCodeFor(affected), 3);
    const fp = affected.findings
      .find((f) => f.advisoryId === "CNID-2024-0002")
      ?.evidence.find((e) => e.kind === "fingerprint");
    assert.match(
      fp?.message ?? "",
      /iptables\.go:427, iptables\.go:440, iptables\.go:503\) match flannel v0\.24\.3 \(all affected\)/,
    );
    const quiet = await judge(files.lookalike);
    assert.equal(quiet.findings.find((f) => f.advisoryId === "CNID-2024-0002")?.status, "not-affected");
  });

  test("logs: a kubectl --prefix capture is judged per pod, and a container the capture names decides what it can show", async () => {
    const advisories = await loadAdvisories();
    const dir = await mkdtemp(join(tmpdir(), "cnid-prefix-"));
    const loop = flannelLogText({
      kind: "ipv6-loop",
      version: "v0.24.3",
      start: new Date("2024-03-18T09:30:00Z"),
      durationSeconds: 60,
      iface: "eth0",
    });
    const felix =
      "2024-03-18 09:30:00.000 [INFO][52] felix/summary.go 100: Summarising 3 dataplane reconciliation loops\n";
    const prefixed = (pod: string, container: string, text: string): string[] =>
      text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => `[pod/${pod}/${container}] ${l}`);
    const file = join(dir, "canal.log");
    await writeFile(
      file,
      [
        ...prefixed("canal-hot", "kube-flannel", loop),
        ...prefixed("canal-calm", "calico-node", felix),
        "",
      ].join("\n"),
    );
    const { report } = await runPipeline({
      target: { kind: "logs", name: file, sources: await logSourcesOf([file]) },
      advisories,
      ...BASICS,
    });
    const flannel = report.verdicts.find((g) => g.advisoryId === "CNID-2024-0002")?.verdicts ?? [];
    assert.deepEqual(
      flannel.map((v) => [v.subject, v.kind, v.status]),
      [
        ["canal-hot", "pod", "affected"],
        ["canal-calm", "pod", "unknown"],
      ],
    );
    // The calm pod's lines are calico-node's: the report must not say the loop "was not seen" there.
    const calm = flannel.find((v) => v.subject === "canal-calm");
    assert.ok(
      calm?.reasons.some((r) =>
        /from the calico-node container; the signature is logged by kube-flannel/.test(r),
      ),
    );
    assert.ok(!calm?.reasons.some((r) => /was not seen/.test(r)));
    assert.deepEqual(report.findings.find((f) => f.advisoryId === "CNID-2024-0002")?.nodes, ["canal-hot"]);
    const table = renderReport(report, "table", { color: false });
    assert.match(table, /^POD +STATUS/m);
    assert.doesNotMatch(table, /^NODE +STATUS/m);
    assert.match(table, /AFFECTED on 1 of 2 pods/);
  });

  test("live: the scan reads kube-flannel's log from the API where the pod runs it", async () => {
    const advisories = await loadAdvisories();
    const api = await serveBundle(LOOP);
    try {
      const { report } = await runPipeline(liveInput(api.client, advisories));
      assert.deepEqual(statusesOf(report, "CNID-2024-0002"), EXPECTED);
      assert.equal(api.logRequests.filter((r) => r.endsWith("/kube-flannel")).length, 3);
      // Without an advisory that names kube-flannel, only calico-node is read.
      api.logRequests.length = 0;
      await runPipeline(
        liveInput(
          api.client,
          advisories.filter((a) => a.id === "CNID-2024-0001"),
        ),
      );
      assert.deepEqual(
        api.logRequests.filter((r) => !r.endsWith("/calico-node")),
        [],
      );
    } finally {
      await api.close();
    }
  });

  test("alerts and the agent's condition use the advisory's names", async () => {
    const advisory = (await loadAdvisories()).find((a) => a.id === "CNID-2024-0002");
    assert.ok(advisory);
    const alerts = alertRuleGroups(advisory).flatMap((g) =>
      g.rules.map((r) => r.alert).filter((x) => x !== undefined),
    );
    assert.deepEqual(alerts.slice(0, 2), ["FlannelIPv6RestoreLoopSeen", "FlannelIPv6RestoreLoopStorm"]);
    assert.equal(conditionTypeFor(advisory), "FlannelIPv6RestoreLoop");
  });
});

describe("flannel on its own (RKE2 cni: flannel, kube-flannel.yml) through bundle, live, report formats and plan", () => {
  const RKE2_FLANNEL = join(EXAMPLES, "rke2-flannel-vxlan-vsphere");
  const STANDALONE = join(EXAMPLES, "flannel-standalone-v0243-loop");
  const LOOP_EXPECTED = { "kfl-agt-01": "at-risk", "kfl-agt-02": "affected", "kfl-srv-01": "affected" };

  async function run(dir: string): Promise<Awaited<ReturnType<typeof runPipeline>>> {
    return runPipeline({ target: { kind: "bundle", dir }, advisories: await loadAdvisories(), ...BASICS });
  }

  function planOf(r: Awaited<ReturnType<typeof runPipeline>>, id: string): ReturnType<typeof buildPlan> {
    const diagnosis = r.diagnoses.find((d) => d.advisory.id === id);
    assert.ok(diagnosis);
    return buildPlan(
      {
        advisory: diagnosis.advisory,
        snapshot: r.snapshot,
        diagnosis,
        options: { ...DEFAULT_PLAN_OPTIONS, outputDir: "/out" },
      },
      ["test"],
      BASICS.now,
    );
  }

  function renders(report: Report, row: RegExp): void {
    assert.match(renderReport(report, "table", { color: false }), row);
    for (const format of ["markdown", "html", "yaml"] as const)
      assert.ok(renderReport(report, format, { color: false }).length > 0, format);
    const json = JSON.parse(renderReport(report, "json", { color: false })) as Report;
    assert.deepEqual(json.summary, report.summary);
  }

  test("RKE2 cni: flannel on vSphere: the VXLAN offload is at risk like Canal's; Felix's conditions do not apply", async () => {
    const r = await run(RKE2_FLANNEL);
    assert.deepEqual(
      r.snapshot.installs.map((i) => [i.plugin, i.managedBy, `${i.namespace}/${i.name}`, i.calicoNode]),
      [["flannel", "rke2-flannel-chart", "kube-system/kube-flannel-ds", undefined]],
    );
    assert.deepEqual(statusesOf(r.report, VXLAN_ID), {
      "flv-agt-01": "at-risk",
      "flv-agt-02": "at-risk",
      "flv-srv-01": "at-risk",
    });
    for (const v of r.report.verdicts.find((g) => g.advisoryId === VXLAN_ID)?.verdicts ?? []) {
      const cond = (id: string): (typeof v.evidence)[number] | undefined =>
        v.evidence.find((e) => e.kind === "condition" && e.data?.condition === id);
      assert.match(cond("flannel-vxlan-backend")?.source ?? "", /ConfigMap kube-system\/kube-flannel-cfg$/);
      for (const felix of ["felix-leaves-offload-on", "ebpf-dataplane"]) {
        // No Felix runs there: not applicable (false), not missing (undecided).
        assert.equal(cond(felix)?.data?.holds, false, `${v.subject} ${felix}`);
        assert.match(cond(felix)?.message ?? "", /not applicable: .*runs flannel without Felix/);
      }
    }
    // rke2-flannel v0.24.201 ships flannel v0.24.2: the image tag clears it.
    assert.deepEqual(statusesOf(r.report, "CNID-2024-0002"), {
      "flv-agt-01": "not-affected",
      "flv-agt-02": "not-affected",
      "flv-srv-01": "not-affected",
    });
    const flannel = r.report.verdicts.find((g) => g.advisoryId === "CNID-2024-0002")?.verdicts[0];
    assert.ok(flannel?.evidence.some((e) => /flannel v0\.24\.2 is not an affected version/.test(e.message)));
    assert.equal(
      r.report.coverage.some((c) => c.status === "not-evaluated" && c.material === true),
      false,
      "nothing Calico-only is material on a flannel cluster",
    );
    renders(r.report, /^flv-agt-01 +at-risk +\? +true · /m);
    const steps = planOf(r, VXLAN_ID).steps.map((s) => s.id);
    assert.deepEqual(steps.slice(0, 2), ["flannel-udev-rule", "flannel-offload-daemonset"]);
    assert.ok(!steps.includes("felix-checksum-offload-override"), steps.join(", "));
    assert.deepEqual(
      planOf(r, "CNID-2024-0002").steps.filter((s) => s.kind === "kube-patch"),
      [],
    );
  });

  test("the platform gate, which answers for RKE2's Calico charts, asks nothing of an rke2-flannel cluster", async () => {
    const versions = {
      tables: defaultVersionTables(),
      rancher: { value: "v2.8.5", from: { source: "flag" as const, ref: "--rancher v2.8.5" } },
    };
    const advisories = await loadAdvisories();
    const flannel = await runPipeline({
      target: { kind: "bundle", dir: RKE2_FLANNEL },
      advisories,
      versions,
      ...BASICS,
    });
    assert.deepEqual(flannel.report.platform?.gate, []);
    const canal = await runPipeline({
      target: { kind: "bundle", dir: join(EXAMPLES, "rke2-canal-flannel-loop") },
      advisories,
      versions,
      ...BASICS,
    });
    assert.ok((canal.report.platform?.gate ?? []).every((g) => g.checked.endsWith("(rke2-canal)")));
    assert.ok((canal.report.platform?.gate.length ?? 0) > 0);
  });

  test("kube-flannel.yml at v0.24.3: the loop decides; the plan patches kube-flannel-ds's image", async () => {
    const r = await run(STANDALONE);
    assert.deepEqual(
      r.snapshot.installs.map((i) => [i.plugin, i.managedBy, `${i.namespace}/${i.name}`]),
      [["flannel", "manifest", "kube-flannel/kube-flannel-ds"]],
    );
    assert.deepEqual(statusesOf(r.report, "CNID-2024-0002"), LOOP_EXPECTED);
    // flannel without Felix is no Calico install: the XDP advisory does not apply.
    for (const status of Object.values(statusesOf(r.report, "CNID-2024-0001")))
      assert.equal(status, "not-affected");
    renders(r.report, /^kfl-srv-01 +affected +v0\.24\.3 /m);
    const plan = planOf(r, "CNID-2024-0002");
    const patch = plan.steps.find((s) => s.kind === "kube-patch");
    assert.ok(patch?.kind === "kube-patch", plan.steps.map((s) => s.id).join(", "));
    assert.equal(patch.remediationId, "flannel-daemonset-image-patch");
    assert.deepEqual(patch.target, {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      plural: "daemonsets",
      namespace: "kube-flannel",
      name: "kube-flannel-ds",
    });
    assert.deepEqual(patch.patch, {
      spec: {
        template: {
          spec: { containers: [{ name: "kube-flannel", image: "docker.io/flannel/flannel:v0.24.4" }] },
        },
      },
    });
    assert.match(
      patch.diff,
      /- {2}image: docker\.io\/flannel\/flannel:v0\.24\.3\n\+ {2}image: docker\.io\/flannel\/flannel:v0\.24\.4/,
    );
    // No rke2-canal here: no RKE2 upgrade, and no manual "check it yourself" step.
    assert.deepEqual(
      plan.steps.filter((s) => s.id === "rke2-upgrade-flannel" || s.id === "flannel-standalone-upgrade"),
      [],
    );
  });

  test("live: kube-flannel-ds's pods by its selector, their kube-flannel logs and kube-flannel-cfg by name", async () => {
    const api = await serveBundle(STANDALONE);
    try {
      const { report, snapshot } = await runPipeline(liveInput(api.client, await loadAdvisories()));
      assert.deepEqual(statusesOf(report, "CNID-2024-0002"), LOOP_EXPECTED);
      assert.deepEqual(
        snapshot.objects?.configmaps?.items.map((o) => `${o.namespace}/${o.name}`),
        ["kube-flannel/kube-flannel-cfg"],
      );
      assert.ok(api.paths.includes("/api/v1/namespaces/kube-flannel/configmaps/kube-flannel-cfg"));
      assert.ok(
        api.paths.every((p) => !/\/configmaps(\?|$)/.test(p) && !/secrets/.test(p)),
        api.paths.join("\n"),
      );
      // A flannel pod runs no calico-node: only kube-flannel's log is asked for.
      assert.equal(api.logRequests.length, 3, api.logRequests.join("\n"));
      assert.ok(api.logRequests.every((r) => r.endsWith("/kube-flannel")));
      assert.equal(
        snapshot.gaps.some((g) => g.check === "logs"),
        false,
      );
    } finally {
      await api.close();
    }
  });

  test("collect: a bundle written from the live flannel cluster holds kube-flannel's block and scans the same", async () => {
    const advisories = await loadAdvisories();
    const api = await serveBundle(STANDALONE);
    const out = join(await mkdtemp(join(tmpdir(), "cnid-flannel-collect-")), "bundle");
    try {
      const scope = collectScope(advisories);
      const written = await writeBundle(api.client, out, {
        container: "calico-node",
        logContainers: scope.others,
        needs: scope.needs,
        bounds: { sinceSeconds: 0, limitBytes: 0 },
        concurrency: 2,
        force: false,
        now: BASICS.now,
      });
      // Only the Calico CRDs a flannel cluster does not serve are missing, and they are optional.
      assert.deepEqual(
        written.gaps.filter((g) => g.optional !== true || !/Calico CRDs not installed/.test(g.reason)),
        [],
      );
      assert.ok(
        api.logRequests.every((r) => r.endsWith("/kube-flannel")),
        api.logRequests.join("\n"),
      );
      const r = await run(out);
      assert.deepEqual(statusesOf(r.report, "CNID-2024-0002"), LOOP_EXPECTED);
    } finally {
      await api.close();
    }
  });
});
