// klog (flanneld, Kubernetes components) in the log engine: `E0318 09:30:12.084574   1 iptables.go:440] msg`
// lines are records, their callers are fingerprinted like Felix's `file.go LINE:`, whatever capture
// shape wraps them; their stamps carry no year, which comes from an envelope's timestamp, else the
// container's start, the file's modification time or today, and the scan says which.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAdvisories } from "../advisories/load.js";
import { compileSignatures, LogScanner, scanLogFile } from "./index.js";
import { flannelLogLines, type FlannelLogKind } from "../../scripts/fixtures/flannel-log.js";
import { WRAPS, type Line } from "../../scripts/fixtures/capture-shapes.js";

const advisories = await loadAdvisories();
const set = compileSignatures(advisories);
const START = new Date("2024-03-18T09:30:00Z");

/** The fixture's lines with their own times (klog stamps are UTC here, as in a container). */
function klogLines(kind: FlannelLogKind, version: string, seconds = 60): Line[] {
  return flannelLogLines({ kind, version, start: START, durationSeconds: seconds, iface: "eth0" }).map(
    (text) => {
      const m = /^[IWEF](\d\d)(\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(text);
      assert.ok(m, text);
      return { text, ms: Date.parse(`2024-${m[1] ?? ""}-${m[2] ?? ""}T${m[3] ?? ""}Z`) };
    },
  );
}

function counts(scan: { signals: { signatureId: string; count: number }[] }): Record<string, number> {
  return Object.fromEntries(scan.signals.map((s) => [s.signatureId, s.count]));
}

function lines(scan: { fingerprints: { file: string; line: number; count: number }[] }): string[] {
  return scan.fingerprints.map((f) => `${f.file}:${f.line}×${f.count}`).sort();
}

describe("klog records and fingerprints", () => {
  test("a plain kube-flannel log: the loop, its companion line and the v0.24.3 callers", () => {
    const s = new LogScanner(set, { referenceTime: new Date("2024-04-01T00:00:00Z") });
    for (const l of klogLines("ipv6-loop", "v0.24.3")) s.pushLine(l.text);
    const scan = s.finish();
    assert.deepEqual(counts(scan), { "ipv6-restore-loop": 12, "rules-missing-recreate": 11 });
    assert.deepEqual(lines(scan), ["iptables.go:427×1", "iptables.go:440×11", "iptables.go:503×11"]);
    assert.equal(scan.records, scan.lines, "every klog line starts a record");
    assert.equal(scan.firstTimestamp, "2024-03-18T09:30:02.100Z");
    assert.equal(scan.yearFrom, "file-time");
  });

  test("v0.24.4's lookalike: its own callers, no symptom", () => {
    const s = new LogScanner(set, { fallbackTime: new Date("2024-04-01T00:00:00Z") });
    for (const l of klogLines("bad-rule-lookalike", "v0.24.4", 120)) s.pushLine(l.text);
    const scan = s.finish();
    assert.deepEqual(counts(scan), { "rules-missing-recreate": 2, "lookalike-bad-rule": 2 });
    assert.deepEqual(lines(scan), ["iptables.go:441×2", "iptables.go:504×2"]);
    assert.equal(scan.yearFrom, "current-year");
  });

  test("a caller counts only in its own grammar: a Felix line quoting a klog caller is Felix's", () => {
    const s = new LogScanner(set);
    s.pushLine(
      "2024-03-18 09:30:12.084 [INFO][51] felix/int_dataplane.go 99: I0318 09:30:12.084574       1 iptables.go:440] Failed to ensure iptables rules",
    );
    s.pushLine("I0318 09:30:13.000000       1 iptables.go:440] Failed to ensure iptables rules: done");
    assert.deepEqual(lines(s.finish()), ["iptables.go:440×1"]);
  });
});

describe("klog in every capture shape", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cnid-klog-"));
  const plain = klogLines("ipv6-loop", "v0.24.3");
  // Shapes whose envelope time the engine reads: the year comes from there, and nothing is assumed.
  // (journal-text leaves its time out on purpose, ISO form included: see shapes/journal-text.ts.)
  const STAMPED = new Set([
    "cri",
    "docker-json",
    "kubectl-timestamps",
    "prefix+timestamps",
    "fluent",
    "loki",
  ]);
  for (const [name, wrap] of Object.entries(WRAPS)) {
    test(`${name}: the same counts and callers as the plain log`, async () => {
      const path = join(dir, `${name.replace(/[^a-z0-9]+/g, "-")}.log`);
      await writeFile(path, wrap(plain));
      // A modification time in another year: only an envelope's stamp may give 2024.
      await utimes(path, new Date("2026-01-10T00:00:00Z"), new Date("2026-01-10T00:00:00Z"));
      const { scan } = await scanLogFile(path, set);
      assert.deepEqual(counts(scan), { "ipv6-restore-loop": 12, "rules-missing-recreate": 11 });
      assert.deepEqual(lines(scan), ["iptables.go:427×1", "iptables.go:440×11", "iptables.go:503×11"]);
      if (STAMPED.has(name)) {
        assert.match(scan.firstTimestamp ?? "", /^2024-03-18T09:30:02/);
        assert.equal(scan.yearFrom, undefined);
      }
    });
  }
  test("the plain log takes the file's year, and says so", async () => {
    const path = join(dir, "plain.log");
    await writeFile(path, `${plain.map((l) => l.text).join("\n")}\n`);
    await utimes(path, new Date("2024-03-19T00:00:00Z"), new Date("2024-03-19T00:00:00Z"));
    const { scan } = await scanLogFile(path, set);
    assert.equal(scan.firstTimestamp, "2024-03-18T09:30:02.100Z");
    assert.equal(scan.yearFrom, "file-time");
  });
  after(() => rm(dir, { recursive: true, force: true }));
});

describe("the year of klog stamps", () => {
  const lineAt = (mmdd: string): string =>
    `E${mmdd} 23:59:58.000000       1 iptables.go:440] Failed to ensure iptables rules: error setting up rules: failed to apply partial iptables-restore unable to run iptables-restore (, ): exit status 4`;

  test("a container started in late December: a January line belongs to the next year", () => {
    const s = new LogScanner(set, { yearNear: new Date("2024-12-31T20:00:00Z") });
    s.pushLine(lineAt("0101"));
    const scan = s.finish();
    assert.equal(scan.firstTimestamp, "2025-01-01T23:59:58.000Z");
    assert.equal(scan.yearFrom, "start-time");
  });

  test("the log's own full timestamp wins over every hint", () => {
    const s = new LogScanner(set, { yearNear: new Date("2020-06-01T00:00:00Z"), fallbackTime: new Date() });
    s.pushLine(`2024-03-18T09:30:00.000000000Z stderr F ${lineAt("0318")}`);
    const scan = s.finish();
    assert.equal(scan.firstTimestamp, "2024-03-18T09:30:00.000Z");
    assert.equal(scan.yearFrom, undefined);
  });

  test("a modification time early in January puts a December line in the year before", () => {
    const s = new LogScanner(set, { referenceTime: new Date("2025-01-02T00:00:00Z") });
    s.pushLine(lineAt("1231"));
    assert.equal(s.finish().firstTimestamp, "2024-12-31T23:59:58.000Z");
  });

  test("no hint at all: no times rather than a guessed year", () => {
    const s = new LogScanner(set);
    s.pushLine(lineAt("0318"));
    const scan = s.finish();
    assert.equal(scan.firstTimestamp, undefined);
    assert.equal(scan.yearFrom, undefined);
    assert.equal(scan.signals.find((x) => x.signatureId === "ipv6-restore-loop")?.firstSeen, undefined);
  });
});
