// The fleet engine and writers over the example bundles used as a fleet directory (plus a gap and
// an interrupted cluster, so every kind of row is shown): golden files per format, each
// cluster's report equal to its single scan, and the exit-code order.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "../advisories/load.js";
import { InputError } from "../errors.js";
import { runPipeline, type Target } from "../pipeline.js";
import { renderJson } from "../report/json.js";
import { defaultVersionTables } from "../versions/tables.js";
import { OUTPUT_FORMATS, type OutputFormat } from "../cli/flags.js";
import { gapReasonOf } from "./gap-reason.js";
import { keepFor, renderFleet } from "./render.js";
import { fleetReport, gapCluster, worstExitCode, type FleetReport } from "./report.js";
import { runFleet, type FleetMember } from "./run.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const up = resolve(here, "../..");
const ROOT = basename(up) === "dist" ? dirname(up) : up;
const GOLDEN_DIR = join(ROOT, "src", "fleet", "testdata");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const BUNDLES = [
  "ebpf-lookalike",
  "healthy",
  "rke1-canal-affected",
  "rke2-calico-at-risk",
  "rke2-canal-xdp-off",
];
const TOOL = { name: "cnidoctor", version: "0.0.0-test" };
const NOW = new Date("2024-09-01T12:00:00Z");
const EXT: Record<OutputFormat, string> = {
  table: "txt",
  json: "json",
  yaml: "yaml",
  markdown: "md",
  html: "html",
};

// Relative bundle paths, so the reports (which name their bundle) do not depend on the checkout.
process.chdir(ROOT);

function members(): FleetMember[] {
  return [
    ...BUNDLES.map((b) => ({
      context: b,
      server: `examples/${b}`,
      target: (): Target => ({ kind: "bundle", dir: `examples/${b}` }),
    })),
    {
      context: "broken",
      server: "examples/does-not-exist",
      target: (): Target => ({ kind: "bundle", dir: "examples/does-not-exist" }),
    },
    {
      context: "a-no-credentials",
      server: "https://rancher.example/k8s/clusters/c-1",
      credentialsError: "kubeconfig credentials: exec plugin failed",
    },
  ];
}

async function fleetIn(format: OutputFormat, spill?: string): Promise<FleetReport> {
  const advisories = await loadAdvisories();
  const { clusters } = await runFleet({
    members: members(),
    concurrency: 3,
    input: { advisories, versions: { tables: defaultVersionTables() }, tool: TOOL, now: NOW },
    keep: keepFor(format),
    ...(spill !== undefined ? { spill } : {}),
  });
  return fleetReport(clusters, TOOL, NOW);
}

function text(out: string | Iterable<string>): string {
  return typeof out === "string" ? out : [...out].join("");
}

for (const format of OUTPUT_FORMATS)
  test(`the fleet ${format} report matches its golden file`, async () => {
    const got = text(renderFleet(await fleetIn(format), format, { color: false }));
    const file = join(GOLDEN_DIR, `fleet.${EXT[format]}`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, got);
    assert.equal(got, readFileSync(file, "utf8"));
  });

test("clusters spilled to files as they finish give the same output in every format", async () => {
  const spill = mkdtempSync(join(tmpdir(), "cnid-fleet-spill-"));
  try {
    for (const format of OUTPUT_FORMATS) {
      const report = await fleetIn(format, spill);
      if (format !== "table")
        assert.ok(
          report.clusters.some((c) => c.detail !== undefined && "file" in c.detail),
          format,
        );
      const got = text(renderFleet(report, format, { color: false }));
      assert.equal(got, readFileSync(join(GOLDEN_DIR, `fleet.${EXT[format]}`), "utf8"), format);
    }
  } finally {
    rmSync(spill, { recursive: true, force: true });
  }
});

test("the JSON schema: sorted clusters, outcomes, summaries, and each report as its single scan prints it", async () => {
  const report = await fleetIn("json");
  const doc = JSON.parse(text(renderFleet(report, "json", { color: false }))) as Omit<
    FleetReport,
    "clusters"
  > & {
    clusters: (FleetReport["clusters"][number] & { report?: unknown })[];
  };
  assert.deepEqual(Object.keys(doc), ["schemaVersion", "kind", "generatedAt", "tool", "summary", "clusters"]);
  assert.deepEqual(
    doc.clusters.map((c) => [c.context, c.outcome, c.exitCode, c.gap?.reason]),
    [
      ["a-no-credentials", "gap", 4, "credentials"],
      ["broken", "gap", 4, "error"],
      ["ebpf-lookalike", "scanned", 0, undefined],
      ["healthy", "scanned", 0, undefined],
      ["rke1-canal-affected", "scanned", 3, undefined],
      ["rke2-calico-at-risk", "scanned", 3, undefined],
      ["rke2-canal-xdp-off", "scanned", 0, undefined],
    ],
  );
  assert.equal(doc.summary.worstExitCode, 3);
  assert.equal(doc.summary.clusters, 7);
  const affected = doc.clusters.find((c) => c.context === "rke1-canal-affected");
  assert.deepEqual(affected?.summary.advisories, [
    { id: "CNID-2021-0001", affected: 0, atRisk: 0, unknown: 0, notAffected: 4 },
    { id: "CNID-2024-0001", affected: 2, atRisk: 2, unknown: 0, notAffected: 0 },
    { id: "CNID-2024-0002", affected: 0, atRisk: 0, unknown: 0, notAffected: 4 },
  ]);
  assert.equal(affected?.summary.firstStep, "Move the RKE1 cluster to a fixed Kubernetes version");
  assert.equal(doc.summary.byAdvisory["CNID-2024-0001"]?.clustersAffected, 1);
  assert.equal(doc.summary.byAdvisory["CNID-2024-0001"]?.clustersAtRisk, 1);
  const advisories = await loadAdvisories();
  for (const b of BUNDLES) {
    const single = await runPipeline({
      target: { kind: "bundle", dir: `examples/${b}` },
      advisories,
      versions: { tables: defaultVersionTables() },
      tool: TOOL,
      now: NOW,
    });
    assert.deepEqual(
      doc.clusters.find((c) => c.context === b)?.report,
      JSON.parse(renderJson(single.report)),
      b,
    );
  }
});

test("exit codes: 3 over 4 over 0, a gap counts 4", () => {
  assert.equal(worstExitCode([0, 4, 3, 0]), 3);
  assert.equal(worstExitCode([0, 4, 0]), 4);
  assert.equal(worstExitCode([0, 0]), 0);
  assert.equal(worstExitCode([]), 0);
  assert.equal(gapCluster("x", "", "timeout", "m").exitCode, 4);
  assert.equal(fleetReport([gapCluster("x", "", "error", "m")], TOOL, NOW).summary.worstExitCode, 4);
});

test("gap reasons from what a cluster's pipeline threw", () => {
  const cases: [unknown, string][] = [
    [
      new InputError("could not read the cluster", "GET /api/v1/nodes?limit=500: unauthorized: Unauthorized"),
      "forbidden",
    ],
    [
      new InputError(
        "could not read the cluster",
        "GET /api/v1/nodes: forbidden: nodes is forbidden after 2 attempts",
      ),
      "forbidden",
    ],
    [
      new InputError("could not read the cluster", "GET /api/v1/nodes: request failed (ECONNREFUSED)"),
      "unreachable",
    ],
    [
      new InputError(
        "could not read the cluster",
        "GET /api/v1/nodes: request failed (TIMEOUT) after 5 attempts",
      ),
      "timeout",
    ],
    [
      new InputError(
        "could not read the cluster",
        "GET /api/v1/nodes: not read: the overall --timeout of 3 s ran out",
      ),
      "timeout",
    ],
    [
      new InputError("could not read the cluster", "GET /api/v1/nodes: request failed (CONNECT_TIMEOUT)"),
      "timeout",
    ],
    [new InputError("could not read the cluster", "GET /api/v1/nodes: HTTP 500: boom"), "error"],
    [new Error("something else"), "error"],
  ];
  for (const [e, reason] of cases) assert.equal(gapReasonOf(e).reason, reason, String(e));
});

test("an interrupt reports what finished and lists what did not; nothing more starts", async () => {
  const stop = new AbortController();
  let started = 0;
  const hang = (signal: AbortSignal): Target => ({
    kind: "live",
    open: () => {
      started++;
      return new Promise((_, reject) => {
        signal.addEventListener("abort", () => reject(new Error("cut")), { once: true });
        // Interrupted once the other cluster has finished and this one is running.
        setTimeout(() => stop.abort(), 50);
      });
    },
    read: { bounds: { sinceSeconds: 60, limitBytes: 1 }, concurrency: 1, sampleSeconds: 0 },
  });
  const result = await runFleet({
    members: [
      { context: "done", server: "", target: () => ({ kind: "bundle", dir: "examples/healthy" }) },
      { context: "hanging", server: "", target: hang },
      { context: "never-started", server: "", target: hang },
    ],
    concurrency: 1,
    input: { advisories: await loadAdvisories(), tool: TOOL, now: NOW },
    keep: keepFor("table"),
    interrupt: stop.signal,
  });
  assert.deepEqual(
    result.clusters.map((c) => [c.context, c.outcome]),
    [
      ["done", "scanned"],
      ["hanging", "interrupted"],
      ["never-started", "interrupted"],
    ],
  );
  assert.deepEqual(result.unfinished, ["hanging", "never-started"]);
  assert.equal(started, 1);
});
