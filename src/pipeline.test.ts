// The pipeline is the same for every target: a bundle, log files and a live cluster go through
// the same collect → analyse → report stages, and a second advisory is only a data file.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "./advisories/load.js";
import { exitCodeFor } from "./analyze/findings.js";
import { KubeClient } from "./kube/client.js";
import { logSourcesOf } from "./collect/logs/collect-logs.js";
import { defaultVersionTables } from "./versions/tables.js";
import { runPipeline, type PipelineInput } from "./pipeline.js";
import { conditionTypeFor } from "./agent/conditions.js";
import { alertRuleGroups } from "./remediate/alerts.js";
import { renderReport } from "./report/index.js";
import type { Advisory } from "./model/advisory.js";
import type { Report, SubjectVerdict } from "./model/finding.js";

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
    ["CNID-2021-0001", "CNID-2024-0001", "CNID-2099-0001"],
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
      `not corroborated; missing: udp-checksum-errors-rising (not available: udpInCsumErrorsRising is not available in a bundle scan: no node agent data for node ${v.subject}); udp-bad-checksum-log (not available: kernelLog is not available in a bundle scan: no node agent data for node ${v.subject})`,
    );
  }
  assert.ok(report.coverage.some((c) => c.check === "node-agent" && c.status === "not-evaluated"));
  assert.equal(
    report.findings.some((f) => f.status === "affected"),
    false,
  );
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
        (c) => c.check === "node-agent" && /live scan reads no node agent data/.test(c.reason),
      ),
    );
  } finally {
    served.close();
  }
});

/** A tiny read-only API server over a bundle's files: what a live scan asks, answered from disk. */
async function serveBundle(dir: string): Promise<{ client: KubeClient; paths: string[]; close: () => void }> {
  const paths: string[] = [];
  const read = async (rel: string): Promise<Record<string, unknown> | undefined> => {
    try {
      return JSON.parse(await readFile(join(dir, rel), "utf8")) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const items = (doc: Record<string, unknown> | undefined): Record<string, unknown>[] =>
    Array.isArray(doc?.items) ? (doc.items as Record<string, unknown>[]) : [];
  const namespaces = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const answer = async (path: string): Promise<{ status: number; body: string }> => {
    const list = (xs: Record<string, unknown>[]): { status: number; body: string } => ({
      status: 200,
      body: JSON.stringify({ kind: "List", apiVersion: "v1", metadata: {}, items: xs }),
    });
    const notFound = {
      status: 404,
      body: JSON.stringify({ kind: "Status", code: 404, message: "not found" }),
    };
    let m: RegExpExecArray | null;
    if (path === "/api/v1/nodes") return list(items(await read("nodes.json")));
    if (path === "/apis/apps/v1/daemonsets")
      return list(
        (await Promise.all(namespaces.map(async (ns) => items(await read(`${ns}/daemonsets.json`))))).flat(),
      );
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)))
      return list(items(await read(`${m[1] ?? ""}/pods.json`)));
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path))) {
      try {
        return { status: 200, body: await readFile(join(dir, m[1] ?? "", m[2] ?? "", "logs.txt"), "utf8") };
      } catch {
        return notFound;
      }
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/.exec(path))) {
      const found = items(await read(`${m[1] ?? ""}/configmaps.json`)).find(
        (o) => (o.metadata as { name?: string } | undefined)?.name === m?.[2],
      );
      return found ? { status: 200, body: JSON.stringify(found) } : notFound;
    }
    if ((m = /^\/apis\/crd\.projectcalico\.org\/v1\/([a-z]+)$/.exec(path))) {
      const doc = await read(`${m[1] ?? ""}.json`);
      return doc ? list(items(doc)) : notFound;
    }
    return notFound;
  };
  const server = createHttpServer((req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    paths.push(path);
    void answer(path).then(({ status, body }) => {
      res.writeHead(status, { "content-type": path.endsWith("/log") ? "text/plain" : "application/json" });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const client = KubeClient.fromEndpoint(
    { server: `http://127.0.0.1:${port}`, headers: {}, description: "fake", context: "fake" },
    {
      timeoutMs: 5000,
      qps: 1000,
      burst: 1000,
      maxSockets: 4,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, random: () => 0 },
    },
  );
  return {
    client,
    paths,
    close: () => {
      client.close();
      server.close();
    },
  };
}
