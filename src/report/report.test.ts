import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { Evidence, Report, SubjectVerdict, VerdictFacts } from "../model/finding.js";
import { REPORT_FORMATS, renderReport } from "./index.js";
import type { ReportFormat } from "./index.js";
import { truncate, width } from "./text.js";
import { jsonChunks } from "./json.js";
import { canonicalReport } from "./canonical.js";

// Golden files live in the source tree; the compiled test runs from dist/src/report.
const here = fileURLToPath(new URL(".", import.meta.url));
const up = resolve(here, "../..");
const ROOT = basename(up) === "dist" ? dirname(up) : up;
const GOLDEN_DIR = join(ROOT, "src", "report", "testdata");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

const ID = "CNID-2024-0001";
const TITLE = "Calico XDP/BTF retry loop burns CPU and floods calico-node logs";
const WIPE =
  "2024-08-14 09:00:05.020 [WARNING][83] felix/int_dataplane.go 1747: failed to wipe the XDP state error=failed to load BPF program (/usr/lib/calico/bpf/filter.o): stat /sys/fs/bpf/calico/xdp/prefilter_v1_calico_tmp_A: no such file or directory";

function nodeEvidence(node: string, kernel: string): Evidence {
  return {
    kind: "node",
    message: `Ubuntu 20.04.6 LTS, kernel ${kernel}, kubelet v1.30.3, rke1 (node annotations rke.cattle.io/*)`,
    nodes: [node],
    data: {
      distribution: "rke1",
      osImage: "Ubuntu 20.04.6 LTS",
      kernelVersion: kernel,
      kubeletVersion: "v1.30.3",
    },
  };
}

function versionEvidence(node: string, version: string): Evidence {
  return {
    kind: "version",
    message: `calico-node image rancher/mirrored-calico-node:${version} is Calico ${version}, in the affected set`,
    source: `kube-system/canal pod on ${node}, container calico-node, status.image`,
    nodes: [node],
    data: { calicoVersion: version },
  };
}

function xdpEvidence(node: string, value: boolean, source: string): Evidence {
  return {
    kind: "condition",
    message: `xdp-enabled: xdpEnabled=${String(value)} (${value ? "condition holds" : "condition fails"}): ${source}`,
    source,
    nodes: [node],
  };
}

function stormEvidence(node: string, count: number, last: string): Evidence {
  return {
    kind: "symptom",
    message: `signature seen: ${String(count)} × xdp-btf-wipe-failure from 2024-08-14T09:00:05.020Z to ${last} (440/h) — e.g. "${WIPE}"`,
    nodes: [node],
    data: {
      signature: "xdp-btf-wipe-failure",
      role: "symptom",
      count,
      firstSeen: "2024-08-14T09:00:05.020Z",
      lastSeen: last,
      ratePerHour: 440,
      samples: [WIPE],
    },
  };
}

function verdict(
  subject: string,
  status: SubjectVerdict["status"],
  reasons: string[],
  evidence: Evidence[],
  facts: VerdictFacts = { logsRead: true, settings: [], resourceCallouts: [] },
): SubjectVerdict {
  return { subject, kind: "node", status, reasons, evidence, facts };
}

/** The facts the analyzer attaches beside xdpEvidence: what the writers' XDP column shows. */
function xdpFacts(value: boolean, source: string): VerdictFacts {
  return {
    logsRead: true,
    settings: [{ condition: "xdp-enabled", field: "xdpEnabled", value: String(value), source }],
    resourceCallouts: [],
  };
}

const FELIX_DEFAULT =
  "Felix default (no FELIX_XDPENABLED, FelixConfiguration default does not set xdpEnabled)";

/** A realistic report: one advisory, nodes in all four statuses, evidence, remediations and gaps. */
export function sampleReport(): Report {
  const wk1 = verdict(
    "rke1-wk-01",
    "affected",
    ["Calico v3.28.0 is in the affected set", "xdpEnabled=true", "the log signature was seen 22 time(s)"],
    [
      nodeEvidence("rke1-wk-01", "5.4.0-177-generic"),
      versionEvidence("rke1-wk-01", "v3.28.0"),
      xdpEvidence("rke1-wk-01", true, FELIX_DEFAULT),
      stormEvidence("rke1-wk-01", 22, "2024-08-14T09:01:36.050Z"),
    ],
    xdpFacts(true, FELIX_DEFAULT),
  );
  const wk2 = verdict(
    "rke1-wk-02",
    "at-risk",
    ["Calico v3.28.0 is in the affected set", "xdpEnabled=true", "the symptom was not seen in 1,204 lines"],
    [
      nodeEvidence("rke1-wk-02", "5.4.0-177-generic"),
      versionEvidence("rke1-wk-02", "v3.28.0"),
      xdpEvidence("rke1-wk-02", true, FELIX_DEFAULT),
    ],
    xdpFacts(true, FELIX_DEFAULT),
  );
  const wk3 = verdict(
    "rke1-wk-03",
    "not-affected",
    ["xdpEnabled=false on this node, so Felix never loads the XDP program"],
    [
      nodeEvidence("rke1-wk-03", "5.4.0-177-generic"),
      versionEvidence("rke1-wk-03", "v3.28.0"),
      xdpEvidence("rke1-wk-03", false, "FelixConfiguration node.rke1-wk-03 spec.xdpEnabled"),
      {
        kind: "lookalike",
        message: "lookalike seen (a different problem, not this one): 1 × ebpf-vmlinux-btf | calico#8001",
        nodes: ["rke1-wk-03"],
        data: { signature: "ebpf-vmlinux-btf", role: "lookalike", count: 1, samples: [] },
      },
    ],
    xdpFacts(false, "FelixConfiguration node.rke1-wk-03 spec.xdpEnabled"),
  );
  const cp = verdict(
    "rke1-cp-01-with-a-rather-long-hostname.example.internal",
    "unknown",
    [
      "the calico-node image could not be read: pod status has no image and the spec uses a digest only",
      "calico-node logs for this node were not available, so the symptom could not be checked",
    ],
    [nodeEvidence("rke1-cp-01-with-a-rather-long-hostname.example.internal", "5.4.0-177-generic")],
    { logsRead: false, settings: [], resourceCallouts: [] },
  );
  const remediations = [
    {
      id: "rke1-upgrade-k8s",
      title: "Upgrade to v1.30.4-rancher1-1 (Calico v3.28.1)",
      kind: "upgrade",
      summary:
        "Move the cluster to the first Kubernetes version in the same minor that ships the fixed Calico.",
      steps: [
        "Use RKE v1.6.2 or later.",
        "Set `kubernetes_version: v1.30.4-rancher1-1` in cluster.yml.",
        "Run `rke up --config cluster.yml`.",
      ],
      durable: true,
    },
    {
      id: "felix-disable-xdp",
      title: "Disable XDP in FelixConfiguration default",
      kind: "config",
      summary: "Felix stops loading the XDP prefilter, so the retry loop cannot start.",
      steps: [
        'Run `kubectl patch felixconfiguration default --type merge -p \'{"spec":{"xdpEnabled":false}}\'`.',
        "Check that no FELIX_XDPENABLED env var overrides it.",
      ],
      tradeoffs: "Loses XDP acceleration of untracked deny policies | rarely used.",
      durable: true,
    },
    {
      id: "restart-calico-node",
      title: "Rolling restart of calico-node",
      kind: "mitigation",
      summary: "Frees the CPU and memory for a while; the loop comes back.",
      steps: ["Run `kubectl -n kube-system rollout restart daemonset/canal`."],
      durable: false,
    },
  ];
  return {
    schemaVersion: 1,
    tool: { name: "cnidoctor", version: "0.1.0" },
    generatedAt: "2024-08-14T09:03:20.000Z",
    target: { kind: "bundle", name: "examples/rke1-canal-affected", distribution: "rke1", nodes: 4 },
    summary: { affected: 1, "at-risk": 1, "not-affected": 1, unknown: 1 },
    findings: [
      {
        advisoryId: ID,
        title: TITLE,
        status: "affected",
        severity: "high",
        nodes: ["rke1-wk-01"],
        evidence: [
          ...wk1.evidence,
          { kind: "note", message: "the log signature was seen 22 time(s)", nodes: ["rke1-wk-01"] },
        ],
        remediations,
      },
      {
        advisoryId: ID,
        title: TITLE,
        status: "at-risk",
        severity: "high",
        nodes: ["rke1-wk-02"],
        evidence: wk2.evidence,
        remediations,
      },
      {
        advisoryId: ID,
        title: TITLE,
        status: "unknown",
        severity: "high",
        nodes: [cp.subject],
        evidence: [
          ...cp.evidence,
          ...cp.reasons.map((message): Evidence => ({ kind: "note", message, nodes: [cp.subject] })),
        ],
        remediations: [],
      },
      {
        advisoryId: ID,
        title: TITLE,
        status: "not-affected",
        severity: "high",
        nodes: ["rke1-wk-03"],
        evidence: wk3.evidence,
        remediations: [],
      },
    ],
    verdicts: [
      {
        advisoryId: ID,
        columns: [{ title: "XDP", condition: "xdp-enabled" }],
        verdicts: [cp, wk1, wk2, wk3],
      },
    ],
    coverage: [
      { check: "nodes", status: "evaluated", reason: "4 node(s) read" },
      { check: "pods", status: "evaluated", reason: "4 calico-node pod(s) read" },
      { check: "felix-configuration", status: "evaluated", reason: "2 FelixConfiguration object(s) read" },
      {
        check: "logs",
        status: "not-evaluated",
        reason:
          "kube-system/canal-2flk7/logs.txt: Request log error: container calico-node is not valid for pod canal-2flk7",
        subject: "rke1-cp-01-with-a-rather-long-hostname.example.internal",
        material: true,
      },
      {
        check: "resource-usage",
        status: "not-evaluated",
        reason: "a cluster-info dump carries no CPU or memory series",
        material: false,
      },
    ],
  };
}

function emptyReport(): Report {
  return {
    schemaVersion: 1,
    tool: { name: "cnidoctor", version: "0.1.0" },
    generatedAt: "2024-08-14T09:03:20.000Z",
    target: { kind: "bundle", name: "examples/flannel-only", distribution: "rke2", nodes: 3 },
    summary: { affected: 0, "at-risk": 0, "not-affected": 0, unknown: 0 },
    findings: [],
    verdicts: [],
    coverage: [
      { check: "nodes", status: "evaluated", reason: "3 node(s) read" },
      { check: "daemonsets", status: "evaluated", reason: "0 Calico/Canal DaemonSet(s) found" },
      {
        check: "felix-configuration",
        status: "not-evaluated",
        reason: "felixconfigurations.json is not in the bundle",
        material: false,
      },
    ],
  };
}

const EXTENSION: Record<ReportFormat, string> = {
  table: "txt",
  json: "json",
  yaml: "yaml",
  markdown: "md",
  html: "html",
};

function golden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `missing golden file ${path}; run the tests with UPDATE_GOLDEN=1 once`);
  assert.equal(
    actual,
    readFileSync(path, "utf8"),
    `${name} changed; if on purpose, rerun with UPDATE_GOLDEN=1`,
  );
}

for (const format of REPORT_FORMATS) {
  test(`sample report as ${format} matches its golden file`, () => {
    golden(`sample.${EXTENSION[format]}`, renderReport(sampleReport(), format, { color: false }));
  });
  test(`empty report as ${format} matches its golden file`, () => {
    golden(`empty.${EXTENSION[format]}`, renderReport(emptyReport(), format, { color: false }));
  });
  test(`${format} without colour contains no escape codes`, () => {
    for (const report of [sampleReport(), emptyReport()]) {
      assert.ok(!renderReport(report, format, { color: false }).includes("\u001b"));
    }
  });
}

test("coloured table matches its golden file and colours each status", () => {
  const out = renderReport(sampleReport(), "table", { color: true });
  golden("sample.color.txt", out);
  assert.ok(out.includes("\u001b[31maffected"), "affected is red");
  assert.ok(out.includes("\u001b[33mat-risk"), "at-risk is yellow");
  assert.ok(out.includes("\u001b[32mnot-affected"), "not-affected is green");
  assert.ok(out.includes("\u001b[35munknown"), "unknown is magenta");
  assert.ok(
    !renderReport(sampleReport(), "json", { color: true }).includes("\u001b"),
    "machine formats never colour",
  );
});

test("table leads with the verdict and ends pointing at -o json", () => {
  const lines = renderReport(sampleReport(), "table", { color: false }).trimEnd().split("\n");
  assert.equal(lines[0], `${ID} ${TITLE} — AFFECTED on 1 of 4 nodes (at risk on 1, unknown on 1)`);
  assert.match(lines.at(-1) ?? "", /-o json/);
  assert.ok(lines.some((l) => l.includes("not evaluated: logs")));
  assert.ok(
    lines.every((l) => width(l) <= 160),
    "long values are truncated",
  );
});

test("empty findings say nothing matched and still show coverage", () => {
  const table = renderReport(emptyReport(), "table", { color: false });
  assert.match(table, /^No known issue matched examples\/flannel-only/);
  assert.match(table, /not evaluated: felix-configuration/);
  assert.match(table, /nodes: 3 node\(s\) read/);
  const md = renderReport(emptyReport(), "markdown", { color: false });
  assert.match(md, /No known issue matched/);
  assert.match(md, /## Coverage/);
});

test("json keeps the type's field order, uses [] for empty lists and ends with a newline", () => {
  const report = sampleReport();
  // Same data, keys in reverse order, as a producer might build it.
  const shuffled = Object.fromEntries(Object.entries(report).reverse()) as unknown as Report;
  const out = renderReport(shuffled, "json", { color: false });
  assert.ok(out.endsWith("}\n"));
  const parsed = JSON.parse(out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), [
    "schemaVersion",
    "tool",
    "generatedAt",
    "target",
    "summary",
    "findings",
    "verdicts",
    "coverage",
  ]);
  assert.equal(out, renderReport(report, "json", { color: false }));
  const broken = { ...emptyReport(), findings: null } as unknown as Report;
  assert.match(renderReport(broken, "json", { color: false }), /"findings": \[\]/);
});

test("json in pieces is exactly JSON.stringify of the canonical report, pieces stay small", () => {
  const big = sampleReport();
  // Many verdicts with nested data, empty lists, unicode and values JSON leaves out or nulls.
  const template = big.verdicts[0]?.verdicts[0];
  assert.ok(template);
  const odd = {
    ...template,
    reasons: [],
    evidence: [
      {
        kind: "symptom",
        message: 'größe \u2014 "quoted"\nline',
        nodes: [],
        data: { a: 1, b: false, c: ["x", "y"] },
      },
    ],
  } as SubjectVerdict;
  big.verdicts[0]?.verdicts.push(
    ...Array.from({ length: 500 }, (_, i) => ({ ...odd, subject: `node-${i}` })),
  );
  for (const report of [big, emptyReport()]) {
    const pieces = [...jsonChunks(report)];
    assert.equal(pieces.join(""), `${JSON.stringify(canonicalReport(report), null, 2)}\n`);
    assert.ok(Math.max(...pieces.map((p) => p.length)) < 4096, "no piece holds a whole list");
  }
});

test("yaml carries the same data as json", () => {
  const report = sampleReport();
  const fromYaml: unknown = parseYaml(renderReport(report, "yaml", { color: false }));
  assert.deepEqual(fromYaml, JSON.parse(renderReport(report, "json", { color: false })));
});

test("markdown escapes pipes inside table cells", () => {
  const md = renderReport(sampleReport(), "markdown", { color: false });
  assert.ok(md.includes("| Node | Status | Calico |"));
  for (const line of md.split("\n").filter((l) => l.startsWith("| ") && l.includes("calico#8001"))) {
    assert.ok(line.includes("\\|"));
  }
});

test("truncate marks cuts with an ellipsis", () => {
  assert.equal(truncate("abcdef", 4), "abc…");
  assert.equal(truncate("abc", 4), "abc");
  assert.equal(truncate("a\n  b", 10), "a b");
});
