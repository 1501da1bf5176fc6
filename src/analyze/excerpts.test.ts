// One excerpt per signature and per lookalike, in the shapes operators actually paste: cut
// mid-record, without timestamps, from single-line log shippers, host syslog. Each must give the
// right status and name the right signature — and lookalikes must never count as this incident.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "../advisories/load.js";
import { compileSignatures, scanLogFile } from "../logs/index.js";
import type { Snapshot } from "../model/snapshot.js";
import { diagnose } from "./diagnose.js";

const DIR = fileURLToPath(new URL("../../../test/fixtures/excerpts/", import.meta.url));
const advisories = await loadAdvisories();
const advisory = advisories.find((a) => a.id === "CNID-2024-0001");
const set = compileSignatures(advisories);

async function verdictFor(file: string) {
  assert.ok(advisory);
  const result = await scanLogFile(join(DIR, file), set);
  const snapshot: Snapshot = {
    target: { kind: "logs", name: file },
    collectedAt: "",
    nodes: [],
    installs: [],
    logs: [result],
    gaps: [],
  };
  const v = diagnose(snapshot, advisory).verdicts[0];
  assert.ok(v);
  const signatures = v.evidence.flatMap((e) =>
    typeof e.data?.signature === "string" ? [e.data.signature] : [],
  );
  const versions = v.evidence.flatMap((e) =>
    e.kind === "fingerprint" && Array.isArray(e.data?.versions) ? e.data.versions : [],
  );
  return { status: v.status, signatures, versions, reasons: v.reasons, evidence: v.evidence };
}

describe("real-world excerpt shapes", () => {
  const cases: [string, string, string[], string[]][] = [
    ["info-apply-failed-no-timestamp.log", "affected", ["xdp-btf-load-failure"], ["v3.27.3"]],
    ["kubectl-timestamps-v3.28.0.log", "affected", ["xdp-btf-load-failure"], ["v3.28.0"]],
    ["starts-mid-record-v3.27.3.log", "affected", ["xdp-btf-load-failure"], ["v3.27.3"]],
    // A bare dump is also what Felix logs once per start with XDP off: context, not the loop.
    ["btf-dump-fragment.log", "unknown", ["calico-btf-dump"], []],
    ["btf-dump-fragment-in-loop.log", "affected", ["calico-btf-dump-in-loop"], []],
    ["xdp-off-startup.log", "not-affected", ["xdp-startup-cleanup-failure", "xdp-acceleration-disabled"], []],
    ["post-fix-restart-warning-only.log", "not-affected", ["xdp-startup-cleanup-failure"], []],
    // The loop without libbpf detail: the line fingerprint decides how far the evidence goes.
    ["loop-no-libbpf-v3.26.log", "affected", ["xdp-filter-load-failure"], ["v3.26.5"]],
    ["loop-no-libbpf-v3.27.3.log", "affected", ["xdp-filter-load-failure"], ["v3.27.3"]],
    ["loop-no-libbpf-v3.28.2.log", "not-affected", ["xdp-filter-load-failure"], ["v3.28.2"]],
    ["loop-no-libbpf-v3.29.0.log", "not-affected", ["xdp-filter-load-failure"], ["v3.29.0", "v3.29.1"]],
    ["loop-no-libbpf-v3.29.2.log", "not-affected", ["xdp-filter-load-failure"], ["v3.29.2", "v3.29.7"]],
    // The same loop from a Felix line no affected release logs it from: another build.
    ["loop-no-libbpf-2020-unlisted-line.log", "not-affected", ["xdp-failure-unlisted-line"], []],
    ["lookalike-eacces-2021-filter-o.log", "not-affected", ["lookalike-xdp-permission"], []],
    ["single-line-shipper-v3.28.0.log", "affected", ["xdp-filter-load-failure"], ["v3.28.0"]],
    [
      "host-udev-churn.syslog",
      "unknown",
      ["host-calico-tmp-veth-churn", "host-networkd-dispatcher-churn"],
      [],
    ],
    ["lookalike-eperm-old-felix.log", "not-affected", ["lookalike-xdp-permission"], []],
    ["lookalike-ebpf-vmlinux.log", "unknown", ["lookalike-ebpf-vmlinux-btf"], []],
    ["lookalike-pinned-map.log", "unknown", ["lookalike-ebpf-pinned-map"], []],
    // Calico 3.7's iproute2 bug, logged from a Felix line no affected release has: another build.
    [
      "lookalike-iproute2-attach.log",
      "not-affected",
      ["lookalike-xdp-attach-iproute2", "xdp-failure-unlisted-line"],
      [],
    ],
    ["foreign-bpftool-btf-error.log", "unknown", [], []],
  ];
  for (const [file, status, signatures, versions] of cases) {
    test(`${file} -> ${status}`, async () => {
      const got = await verdictFor(file);
      assert.equal(got.status, status, JSON.stringify(got));
      for (const s of signatures)
        assert.ok(got.signatures.includes(s), `${s} in ${JSON.stringify(got.signatures)}`);
      for (const v of versions)
        assert.ok(got.versions.includes(v), `${v} in ${JSON.stringify(got.versions)}`);
      if (status !== "affected") {
        assert.ok(
          !got.signatures.some((s) => ["xdp-btf-load-failure", "calico-btf-dump-in-loop"].includes(s)),
        );
      }
      // Never two contradictory sentences: "not seen" only when nothing of the problem was seen.
      if (got.evidence.some((e) => e.message.includes("seen:")))
        assert.ok(!got.reasons.some((r) => r.includes("was not seen")), JSON.stringify(got.reasons));
    });
  }
  test("the consistent-version verdict names its doubt and what settles it", async () => {
    const got = await verdictFor("loop-no-libbpf-v3.26.log");
    const note = got.reasons.find((r) => r.startsWith("note:"));
    assert.ok(note, JSON.stringify(got.reasons));
    assert.match(note, /v3\.26\.0.*only v3\.26\.5/);
    assert.match(note, /image tag|multi-line record/);
  });
});
