import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "../advisories/load.js";
import { collectBundle } from "../collect/bundle/collect-bundle.js";
import { compileSignatures } from "../logs/index.js";
import type { ResourceMetric, ResourceSeries } from "../model/resources.js";
import { diagnose } from "./diagnose.js";
import { buildReport } from "./findings.js";
import { analyzeResources, trendSettings } from "./resources.js";
import { renderReport } from "../report/index.js";
import type { TrendSettings } from "./resources.js";

const MIB = 1024 * 1024;
const TESTDATA = fileURLToPath(new URL("../../../src/analyze/testdata/", import.meta.url));
const T0 = Date.parse("2024-08-14T00:00:00Z");
const SETTINGS: TrendSettings = trendSettings({
  cpuPeerRatio: 3,
  memorySlopeMiBPerHour: 5,
  signatureRatePerHour: 60,
});

function series(
  pod: string,
  metric: ResourceMetric,
  value: (hours: number, i: number) => number,
  opts: { node?: string; points?: number; stepMin?: number } = {},
): ResourceSeries {
  const n = opts.points ?? 120;
  const step = opts.stepMin ?? 5;
  return {
    node: opts.node ?? "",
    namespace: "kube-system",
    pod,
    container: "calico-node",
    metric,
    from: { source: "prometheus", ref: "test" },
    samples: Array.from({ length: n }, (_, i) => {
      const ms = T0 + i * step * 60_000;
      return { t: new Date(ms).toISOString(), value: value((ms - T0) / 3_600_000, i) };
    }),
  };
}

/** Deterministic wobble of about ±3 MiB. */
const wobble = (i: number): number => (((i * 7919) % 13) - 6) * 0.5;

describe("analyzeResources", () => {
  test("a steady leak is a leak; a flat noisy series is not", () => {
    const trends = analyzeResources(
      [
        series("leaky", "memory-working-set-bytes", (h, i) => (150 + 12 * h + wobble(i)) * MIB),
        series("flat", "memory-working-set-bytes", (_h, i) => (150 + wobble(i)) * MIB),
      ],
      "calico-node",
      SETTINGS,
    );
    const leaky = trends.find((t) => t.pod === "leaky")?.memory;
    const flat = trends.find((t) => t.pod === "flat")?.memory;
    assert.ok(leaky && flat);
    assert.equal(leaky.leak, true);
    assert.ok(leaky.low <= 12 && leaky.high >= 12, `${leaky.low}..${leaky.high}`);
    assert.equal(flat.leak, false);
    assert.ok(Math.abs(flat.slope) < 1);
  });

  test("a sawtooth of leak-then-restart is a leak, split at each restart", () => {
    const saw = series("saw", "memory-working-set-bytes", (h, i) => (120 + 30 * (h % 3) + wobble(i)) * MIB);
    const trends = analyzeResources([saw], "calico-node", SETTINGS);
    const m = trends[0]?.memory;
    assert.ok(m);
    assert.equal(m.resets, 3, "10 hours of 3-hour teeth reset 3 times");
    assert.equal(m.leak, true);
    assert.ok(Math.abs(m.slope - 30) < 2, `slope ${m.slope}`);
  });

  test("known restarts from the restart counter split the series even without a visible fall", () => {
    const mem = series("r", "memory-working-set-bytes", (h) => (100 + 10 * (h % 5)) * MIB);
    const restarts = series("r", "restarts", (h) => Math.floor(h / 5));
    const [t] = analyzeResources([mem, restarts], "calico-node", { ...SETTINGS, memoryJumpMiB: 1000 });
    assert.ok(t?.memory);
    assert.equal(t.restarts, 1);
    assert.equal(t.memory.segments, 2);
    assert.equal(t.memory.leak, true);
  });

  test("a step after an upgrade is a level shift, not a leak", () => {
    const step = series(
      "step",
      "memory-working-set-bytes",
      (h, i) => (110 + (h > 4 ? 60 : 0) + wobble(i)) * MIB,
    );
    const m = analyzeResources([step], "calico-node", SETTINGS)[0]?.memory;
    assert.ok(m);
    assert.equal(m.shifts, 1);
    assert.equal(m.leak, false);
  });

  test("CPU: the busy pod stands out against its peers and its own baseline; idle pods never do", () => {
    const pods = ["a", "b", "c", "d"].map((p) => series(p, "cpu-cores", (_h, i) => 0.03 + (i % 3) * 0.002));
    const hot = series("hot", "cpu-cores", (h) => (h > 7 ? 0.9 : 0.03));
    const trends = analyzeResources([...pods, hot], "calico-node", SETTINGS);
    const cpu = trends.find((t) => t.pod === "hot")?.cpu;
    assert.ok(cpu);
    assert.equal(cpu.outlier, true);
    assert.equal(cpu.peers, 4);
    assert.ok((cpu.peerRatio ?? 0) > 25);
    assert.ok((cpu.baselineRatio ?? 0) > 25);
    assert.ok(trends.filter((t) => t.pod !== "hot").every((t) => t.cpu?.outlier === false));
  });

  test("too few samples give no trend and say why", () => {
    const [t] = analyzeResources(
      [series("few", "memory-working-set-bytes", () => 100 * MIB, { points: 3 })],
      "calico-node",
      SETTINGS,
    );
    assert.equal(t?.memory, undefined);
    assert.match(t?.notes[0] ?? "", /only 3 memory sample/);
  });
});

describe("resource evidence in the diagnosis", () => {
  const BUNDLE = fileURLToPath(new URL("../../../examples/rke1-canal-affected", import.meta.url));
  const POD_ON: Record<string, string> = {
    "rke1-cp-01": "canal-2flk7",
    "rke1-wk-01": "canal-7p6r9",
    "rke1-wk-02": "canal-qg96n",
    "rke1-wk-03": "canal-76kxm",
  };

  test("a leak on an at-risk node is called out but does not make it affected", async () => {
    const advisories = await loadAdvisories();
    const snapshot = await collectBundle(BUNDLE, {
      container: "calico-node",
      signatures: compileSignatures(advisories),
      now: new Date(T0),
    });
    // wk-02 (at risk) leaks and burns CPU; the others are flat. No node label: the pod decides.
    snapshot.resources = Object.entries(POD_ON).flatMap(([node, pod]) => {
      const hot = node === "rke1-wk-02";
      return [
        series(pod, "memory-working-set-bytes", (h, i) => ((hot ? 200 + 40 * h : 96) + wobble(i)) * MIB),
        series(pod, "cpu-cores", () => (hot ? 0.87 : 0.028)),
      ];
    });
    const advisory = advisories.find((a) => a.id === "CNID-2024-0001");
    assert.ok(advisory);
    const d = diagnose(snapshot, advisory);
    const wk2 = d.verdicts.find((v) => v.subject === "rke1-wk-02");
    assert.ok(wk2);
    assert.equal(wk2.status, "at-risk");
    const callout = wk2.reasons.find((r) => r.startsWith("resource symptom:"));
    assert.ok(callout, wk2.reasons.join("\n"));
    assert.match(callout, /memory grows 40\.\d MiB\/h/);
    assert.match(callout, /CPU is 0\.87 cores, 31\.1× its peers' median/);
    const mem = wk2.evidence.find((e) => e.data?.resource === "memory");
    assert.equal(mem?.kind, "symptom");
    assert.equal(mem?.data?.outlier, true);
    assert.equal(typeof mem?.data?.slopeLowMiBPerHour, "number");
    const quiet = d.verdicts.find((v) => v.subject === "rke1-cp-01");
    assert.equal(quiet?.status, "at-risk");
    assert.ok(!quiet?.reasons.some((r) => r.includes("resource symptom")));
    assert.equal(quiet?.evidence.find((e) => e.data?.resource === "memory")?.data?.role, "context");
    assert.deepEqual(
      d.verdicts.map((v) => v.status),
      ["at-risk", "affected", "at-risk", "affected"],
    );

    const report = buildReport({
      snapshot,
      diagnoses: [d],
      tool: { name: "t", version: "0" },
      now: new Date(T0),
    });
    assert.equal(report.trends?.length, 4);
    const chart = report.trends?.find((c) => c.subject === "rke1-wk-02");
    assert.equal(chart?.memorySlope?.leak, true);
    assert.equal(chart?.cpu?.outlier, true);
    assert.ok((chart?.memoryMiB.length ?? 0) > 100);
    const wk1 = report.trends?.find((c) => c.subject === "rke1-wk-01");
    assert.ok((wk1?.signatureRate.length ?? 0) > 0, "the affected node's log rate is charted");
    assert.ok(report.coverage.some((c) => c.check === "resource-usage" && c.status === "evaluated"));
  });

  test("every advisory that draws charts gets its own, judged by its own thresholds", async () => {
    const shipped = await loadAdvisories();
    const [extra] = await loadAdvisories(TESTDATA);
    const advisory = shipped.find((a) => a.id === "CNID-2024-0001");
    assert.ok(advisory && extra);
    // The test advisory tolerates 100 MiB/h; a third one opts out of charts.
    const lenient = { ...extra, symptoms: { ...extra.symptoms, memorySlopeMiBPerHour: 100 } };
    const silent = { ...extra, id: "CNID-2099-0002", presentation: { charts: false } };
    const advisories = [advisory, lenient, silent];
    const snapshot = await collectBundle(BUNDLE, {
      container: "calico-node",
      signatures: compileSignatures(advisories),
      now: new Date(T0),
    });
    snapshot.resources = Object.entries(POD_ON).flatMap(([node, pod]) => [
      series(
        pod,
        "memory-working-set-bytes",
        (h, i) => ((node === "rke1-wk-02" ? 200 + 40 * h : 96) + wobble(i)) * MIB,
      ),
      series(pod, "cpu-cores", () => 0.028),
    ]);
    const report = buildReport({
      snapshot,
      diagnoses: advisories.map((a) => diagnose(snapshot, a)),
      tool: { name: "t", version: "0" },
      now: new Date(T0),
    });
    const charts = report.trends ?? [];
    assert.deepEqual(
      [...new Set(charts.map((c) => c.advisoryId))],
      ["CNID-2024-0001", "CNID-2099-0001"],
      "one set of charts per charting advisory, each naming it",
    );
    const wk2 = (id: string) => charts.find((c) => c.advisoryId === id && c.subject === "rke1-wk-02");
    assert.equal(wk2("CNID-2024-0001")?.memorySlope?.leak, true);
    assert.equal(wk2("CNID-2099-0001")?.memorySlope?.leak, false);
    const html = renderReport(report, "html", { color: false });
    assert.match(html, /<span>rke1-wk-02 · CNID-2099-0001<\/span>/);
    assert.match(html, /<span>rke1-wk-02 · CNID-2024-0001<\/span>/);
  });
});
