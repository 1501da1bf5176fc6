// The engine is generic: a second advisory is a data file, and the same collect → analyze → report
// pipeline diagnoses it without new code.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "../advisories/load.js";
import { compileSignatures, scanLogFile } from "../logs/index.js";
import { diagnose } from "./diagnose.js";
import { buildReport, exitCodeFor } from "./findings.js";
import type { Snapshot } from "../model/snapshot.js";

const TESTDATA = fileURLToPath(new URL("../../../src/analyze/testdata/", import.meta.url));

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
  const result = await scanLogFile(file, compileSignatures(advisories));
  const snapshot: Snapshot = {
    target: { kind: "logs", name: file },
    collectedAt: "",
    nodes: [],
    installs: [],
    logs: [result],
    gaps: [],
  };
  const report = buildReport({
    snapshot,
    diagnoses: advisories.map((a) => diagnose(snapshot, a)),
    tool: { name: "t", version: "0" },
    now: new Date(0),
  });
  const byAdvisory = Object.fromEntries(report.findings.map((f) => [f.advisoryId, f.status]));
  assert.equal(byAdvisory["CNID-2099-0001"], "affected");
  assert.equal(byAdvisory["CNID-2024-0001"], "unknown");
  assert.equal(exitCodeFor(report), 3);
  const symptom = report.findings
    .find((f) => f.advisoryId === "CNID-2099-0001")
    ?.evidence.find((e) => e.kind === "symptom");
  assert.equal(symptom?.data?.count, 2);
  assert.equal(symptom?.data?.ratePerHour, 4);
});
