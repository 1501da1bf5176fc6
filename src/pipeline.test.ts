// The pipeline is the same for every target: a bundle, log files and a live cluster go through
// the same collect → analyse → report stages, and a second advisory is only a data file.

import { test } from "node:test";
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
import { runPipeline, type PipelineInput } from "./pipeline.js";
import { conditionTypeFor } from "./agent/conditions.js";
import { alertRuleGroups } from "./remediate/alerts.js";
import { renderReport } from "./report/index.js";

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
    ["CNID-2024-0001", "CNID-2099-0001"],
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
  const [shipped] = await loadAdvisories();
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
  assert.equal(plain.diagnoses.length, 1);
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
