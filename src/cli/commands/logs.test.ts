// `cnidoctor logs` through the built binary (its lean entry): rotated sets as one source, the
// --since/--until window note, --sample's coverage line, and usage errors for bad values.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { felixLog, type FelixLogKind } from "../../../scripts/fixtures/felix-log.js";
import type { Report } from "../../model/finding.js";

const BIN = fileURLToPath(new URL("../bin.js", import.meta.url));

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, "logs", ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function hour(kind: FelixLogKind, h: number): string {
  const lines = [
    ...felixLog({
      calicoVersion: "v3.28.0",
      kind,
      start: new Date(Date.UTC(2024, 7, 9) + h * 3_600_000),
      durationSeconds: 3600,
      stormIntervalSeconds: 30,
      quietIntervalSeconds: 5,
      seed: h + 1,
    }),
  ];
  return `${lines.map((l) => l.text).join("\n")}\n`;
}

function symptomCount(report: Report): number {
  const symptom = report.findings.flatMap((f) => f.evidence).find((e) => e.kind === "symptom");
  const count = symptom?.data?.count;
  return typeof count === "number" ? count : 0;
}

describe("cnidoctor logs: rotated sets, windows, sampling", () => {
  test("a Felix log directory is one source; the window and the sample are stated", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cnidoctor-logs-cli-"));
    try {
      await writeFile(join(dir, "current.2.gz"), gzipSync(hour("storm", 0)));
      await writeFile(join(dir, "current.1"), hour("quiet", 1));
      await writeFile(join(dir, "current"), hour("quiet", 2));
      await writeFile(join(dir, "lock"), "");
      const all = run([dir, "-o", "json"]);
      assert.equal(all.code, 3, all.stderr);
      const report = JSON.parse(all.stdout) as Report;
      assert.match(report.coverage[0]?.reason ?? "", /^1 of 1 log source/);
      assert.ok(symptomCount(report) > 0);

      // Explicit files: two of the same set are one source, a file of another set is another.
      await writeFile(join(dir, "other.log"), hour("quiet", 3));
      const explicit = run([
        join(dir, "current.1"),
        join(dir, "other.log"),
        join(dir, "current"),
        "-o",
        "json",
      ]);
      assert.match((JSON.parse(explicit.stdout) as Report).coverage[0]?.reason ?? "", /^2 of 2 log source/);

      const recent = run([dir, "--since", "90m", "-o", "json"]);
      assert.equal(recent.code, 4, recent.stderr);
      assert.equal(symptomCount(JSON.parse(recent.stdout) as Report), 0);
      assert.match(
        recent.stderr,
        /^cnidoctor: note: .*current: only lines from 2024-08-09T01:29:5\d\.\d+Z to the end counted/m,
      );

      const sampled = run([dir, "--sample", "-o", "json"]);
      assert.equal(sampled.code, 3, sampled.stderr);
      assert.match(
        sampled.stderr,
        /--sample: stopped early after [\d.]+ [kM]B of [\d.]+ [kM]B \(20 symptom records spanning 10 minutes\)/,
      );
      const gap = (JSON.parse(sampled.stdout) as Report).coverage.find((c) => c.reason.includes("--sample"));
      assert.equal(gap?.material, false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("bad --since values and durations on stdin are usage errors (exit 2, one line)", () => {
    for (const args of [
      ["x.log", "--since", "yesterday"],
      ["x.log", "--until", "2024-13-01T00:00:00Z"],
      ["-", "--since", "2h"],
    ]) {
      const r = run(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.match(
        r.stderr,
        /^cnidoctor: logs: --(since|until)|^cnidoctor: logs: a --since\/--until duration needs files/,
      );
    }
  });
});
