import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { LogScan } from "../model/logs.js";
import { hostChurnSyslog, toCri, toDockerJson, type LogLine } from "../../scripts/fixtures/felix-log.js";
import { ADVISORY, START, cyclesIn, felixLines } from "../../test/fixtures/logs/incident.js";
import { compileSignatures, LogScanner, type ScanOptions } from "./index.js";

const SET = compileSignatures([ADVISORY]);

function scanLines(lines: readonly string[], options?: ScanOptions): LogScan {
  const scanner = new LogScanner(SET, options);
  for (const line of lines) scanner.pushLine(line);
  return scanner.finish();
}

function counts(scan: LogScan): Record<string, number> {
  return Object.fromEntries(scan.signals.map((s) => [s.signatureId, s.count]));
}

function fingerprintCounts(scan: LogScan): Record<string, number> {
  return Object.fromEntries(scan.fingerprints.map((f) => [f.fingerprintId, f.count]));
}

function isHeader(l: LogLine): boolean {
  return /^\d{4}-\d\d-\d\d /.test(l.text);
}

describe("storm counts on generated Felix logs", () => {
  const storm = felixLines({ kind: "storm" });
  const n = cyclesIn(storm);

  test("a storm of N cycles gives 10N wipes, N apply failures, N give-ups, N retries, 12N BTF records", () => {
    assert.equal(n, 10);
    const scan = scanLines(storm.map((l) => l.text));
    assert.deepEqual(counts(scan), {
      "xdp-wipe-btf": 10 * n,
      "xdp-apply-failed": n,
      "xdp-give-up": n,
      "xdp-retry": n,
      "btf-einval": 12 * n,
    });
    assert.equal(scan.lines, storm.length);
    assert.equal(scan.records, storm.filter(isHeader).length);
    assert.deepEqual(scan.formats, ["felix"]);
    assert.deepEqual(fingerprintCounts(scan), { "wipe-1747": 10 * n });
  });

  test("RKE1's Warning screen hides the INFO records but not the symptom", () => {
    const lines = felixLines({ kind: "storm", severityScreen: "Warning" });
    const c = counts(scanLines(lines.map((l) => l.text)));
    assert.equal(c["xdp-wipe-btf"], 10 * n);
    assert.equal(c["xdp-apply-failed"], undefined);
    assert.equal(c["xdp-retry"], undefined);
  });

  const lookalikes = [
    { kind: "eperm-lookalike", expect: "eperm-lookalike" },
    { kind: "ebpf-vmlinux-lookalike", expect: "vmlinux-lookalike" },
    { kind: "pinned-map-lookalike", expect: "pinned-map-lookalike" },
  ] as const;
  for (const { kind, expect } of lookalikes) {
    test(`${kind}: no incident signature matches, only its lookalike`, () => {
      const scan = scanLines(felixLines({ kind }).map((l) => l.text));
      const c = counts(scan);
      for (const id of ["xdp-wipe-btf", "xdp-apply-failed", "xdp-give-up", "btf-einval"]) {
        assert.equal(c[id], undefined, `${id} must not match ${kind}`);
      }
      assert.ok((c[expect] ?? 0) > 0, `${expect} should match ${kind}`);
    });
  }

  test("the lookalike signatures do not match the storm", () => {
    const c = counts(scanLines(storm.map((l) => l.text)));
    for (const id of ["eperm-lookalike", "vmlinux-lookalike", "pinned-map-lookalike"])
      assert.equal(c[id], undefined);
  });

  test("a quiet log matches nothing", () => {
    const scan = scanLines(felixLines({ kind: "quiet" }).map((l) => l.text));
    assert.deepEqual(scan.signals, []);
    assert.deepEqual(scan.fingerprints, []);
  });
});

describe("formats", () => {
  const storm = felixLines({ kind: "storm", durationSeconds: 40 });
  const expected = counts(scanLines(storm.map((l) => l.text)));

  const table: { name: string; lines: string[]; formats: string[] }[] = [
    { name: "felix", lines: storm.map((l) => l.text), formats: ["felix"] },
    { name: "CRI", lines: storm.map((l) => toCri(l, "stdout")), formats: ["felix", "cri"] },
    {
      name: "docker json-file",
      lines: storm.map((l) => toDockerJson(l, "stderr")),
      formats: ["felix", "docker-json"],
    },
    {
      name: "mixed CRI and docker in one source",
      lines: storm.map((l, i) => (i % 2 === 0 ? toCri(l) : toDockerJson(l))),
      formats: ["felix", "cri", "docker-json"],
    },
  ];
  for (const row of table) {
    test(`${row.name}: same signals as plain Felix, formats ${row.formats.join(",")}`, () => {
      const scan = scanLines(row.lines);
      assert.deepEqual(counts(scan), expected);
      assert.deepEqual(scan.formats, row.formats);
      assert.equal(scan.lines, storm.length);
      assert.equal(scan.firstTimestamp, "2024-05-26T10:00:00.000Z");
    });
  }

  test("CRI timestamps (envelope) win over the Felix header time", () => {
    const line: LogLine = { time: new Date("2024-08-09T08:53:08.290Z"), text: storm[0]?.text ?? "" };
    const scan = scanLines([toCri(line)]);
    assert.equal(scan.firstTimestamp, "2024-08-09T08:53:08.290Z");
    assert.equal(scan.lastTimestamp, "2024-08-09T08:53:08.290Z");
  });

  test("CRI P fragments join with the following F line of the same stream", () => {
    const header = storm.find((l) => l.text.includes("failed to wipe"));
    assert.ok(header);
    const text = header.text;
    const cut = [0, 40, 90, text.length];
    const ts = "2024-08-09T08:53:08.290123456Z";
    const lines = [
      `${ts} stdout P ${text.slice(cut[0], cut[1])}`,
      `${ts} stderr F unrelated stderr line`,
      `${ts} stdout P ${text.slice(cut[1], cut[2])}`,
      `${ts} stdout F ${text.slice(cut[2], cut[3])}`,
      `${ts} stdout F libbpf: Error loading BTF: Invalid argument(22)`,
      `${ts} stdout F  try=0`,
    ];
    const scan = scanLines(lines);
    assert.equal(counts(scan)["xdp-wipe-btf"], 1);
    assert.equal(scan.lines, 6);
    assert.equal(
      scan.signals.find((s) => s.signatureId === "xdp-wipe-btf")?.samples[0]?.split("\n")[0],
      text,
    );
  });

  test("docker json lines without a trailing newline are partial and join with the next", () => {
    const header = storm.find((l) => l.text.includes("failed to wipe"));
    assert.ok(header);
    const time = "2024-08-09T08:53:08.290123456Z";
    const piece = (log: string): string => JSON.stringify({ log, stream: "stdout", time });
    const lines = [
      piece(header.text.slice(0, 50)),
      piece(`${header.text.slice(50)}\n`),
      piece("libbpf: Error loading BTF: Invalid argument(22)\n"),
      piece("\tproto type_id=7 bits_offset=0\n"),
    ];
    const scan = scanLines(lines);
    assert.equal(counts(scan)["xdp-wipe-btf"], 1);
    assert.equal(scan.records, 1);
    assert.deepEqual(scan.formats, ["felix", "docker-json"]);
  });

  test("host syslog: records per line, year from another timestamp in the source", () => {
    const syslog = [...hostChurnSyslog({ host: "node1", start: START, cycles: 3, intervalSeconds: 30 })];
    const felix = "2024-05-26 09:59:00.000 [INFO][9] startup/startup.go 432: Early log level set to info";
    const scan = scanLines([...syslog.map((l) => l.text), felix]);
    assert.deepEqual(scan.formats, ["felix", "syslog"]);
    assert.equal(scan.records, syslog.length + 1);
    assert.equal(counts(scan)["host-tmp-veth"], 6);
    assert.equal(scan.firstTimestamp, "2024-05-26T10:00:00.000Z");
    const stat = scan.signals.find((s) => s.signatureId === "host-tmp-veth");
    assert.equal(stat?.lastSeen, "2024-05-26T10:01:00.000Z");
  });

  test("host syslog: year from the reference time (file mtime), else omitted", () => {
    const syslog = [...hostChurnSyslog({ host: "n", start: START, cycles: 1, intervalSeconds: 30 })].map(
      (l) => l.text,
    );
    const withMtime = scanLines(syslog, { referenceTime: new Date("2025-01-03T00:00:00Z") });
    assert.equal(withMtime.firstTimestamp, "2024-05-26T10:00:00.000Z");
    const without = scanLines(syslog);
    assert.equal(without.firstTimestamp, undefined);
    assert.equal(without.signals[0]?.firstSeen, undefined);
    assert.equal(without.signals[0]?.count, 2);
  });

  test("anything else is plain text", () => {
    const scan = scanLines(["hello", "world"]);
    assert.deepEqual(scan.formats, ["plain"]);
    assert.equal(scan.records, 1);
    assert.equal(scan.firstTimestamp, undefined);
  });
});

describe("multi-line records", () => {
  const storm = felixLines({ kind: "storm", durationSeconds: 40 });

  test("continuation lines (BTF dump, tab members, ' try=N', ', will proceed anyway.') stay in their record", () => {
    const scan = scanLines(storm.map((l) => l.text));
    assert.equal(scan.records, storm.filter(isHeader).length);
    assert.ok(scan.lines > scan.records * 2);
  });

  test("an excerpt that starts mid-block forms a headerless first record", () => {
    const wipe = storm.findIndex((l) => l.text.includes("failed to wipe the XDP state error"));
    const start = storm.findIndex((l, i) => i > wipe && l.text.startsWith("[15] VAR calico_failsafe_ports"));
    const excerpt = storm.slice(start).map((l) => l.text);
    const headerless = compileSignatures([
      {
        id: "H",
        signatures: [
          {
            id: "tail",
            role: "context",
            description: "",
            prefilter: ["into kernel"],
            all: ["\\.BTF into kernel: -22"],
          },
        ],
        fingerprints: [],
      },
    ]);
    const scanner = new LogScanner(headerless);
    for (const line of excerpt) scanner.pushLine(line);
    const scan = scanner.finish();
    // Every BTF record but the cycle's first (the apply failure before the cut) is in the excerpt.
    assert.equal(scan.signals[0]?.count, cyclesIn(storm) * 12 - 1);
    assert.equal(scan.records, excerpt.filter((t) => /^\d{4}-/.test(t)).length + 1);
    const main = counts(scanLines(excerpt));
    assert.equal(main["xdp-wipe-btf"], 10 * cyclesIn(storm) - 1, "the cut record has no header to match");
  });

  test("maxRecordLines bounds a record; the rest continues as a headerless record", () => {
    const scan = scanLines(
      storm.map((l) => l.text),
      { maxRecordLines: 10 },
    );
    assert.ok(scan.records > storm.filter(isHeader).length);
    assert.equal(counts(scan)["xdp-wipe-btf"], 10 * cyclesIn(storm));
  });

  test("CRLF line ends are handled", () => {
    const scan = scanLines(storm.map((l) => `${l.text}\r`));
    assert.equal(counts(scan)["xdp-give-up"], cyclesIn(storm));
  });
});

describe("first/last/rate/samples", () => {
  test("rate per hour over an hour-long storm, first and last seen, sample limit", () => {
    const storm = felixLines({ kind: "storm", durationSeconds: 3600 });
    const n = cyclesIn(storm);
    assert.equal(n, 120);
    const scan = scanLines(
      storm.map((l) => l.text),
      { sampleLimit: 2 },
    );
    const wipe = scan.signals.find((s) => s.signatureId === "xdp-wipe-btf");
    assert.ok(wipe);
    assert.equal(wipe.count, 1200);
    assert.equal(wipe.firstSeen, "2024-05-26T10:00:05.020Z");
    const last = new Date(START.getTime() + 5000 + 119 * 30_000 + 20 + 900).toISOString();
    assert.equal(wipe.lastSeen, last);
    const hours = (Date.parse(last) - Date.parse("2024-05-26T10:00:05.020Z")) / 3_600_000;
    assert.ok(Math.abs((wipe.ratePerHour ?? 0) - 1200 / hours) < 1e-9);
    assert.equal(wipe.samples.length, 2);
    assert.match(
      wipe.samples[0] ?? "",
      /^2024-05-26 10:00:05\.020 \[WARNING\]\[\d+\] felix\/int_dataplane\.go 1747: /,
    );
    assert.equal(wipe.samples[0]?.split("\n")[1], "libbpf: Error loading BTF: Invalid argument(22)");
    assert.equal(scan.firstTimestamp, START.toISOString());
    assert.equal(scan.lastTimestamp, storm.at(-1)?.time.toISOString());
  });

  test("no rate for a span under a minute; no samples when sampleLimit is 0", () => {
    const storm = felixLines({ kind: "storm", durationSeconds: 20 });
    const scan = scanLines(
      storm.map((l) => l.text),
      { sampleLimit: 0 },
    );
    const wipe = scan.signals.find((s) => s.signatureId === "xdp-wipe-btf");
    assert.equal(wipe?.count, 10);
    assert.equal(wipe?.ratePerHour, undefined);
    assert.ok(wipe?.firstSeen !== undefined);
    assert.deepEqual(wipe?.samples, []);
  });

  test("samples are trimmed to 300 characters", () => {
    const long = `2024-05-26 10:00:00.000 [WARNING][1] felix/int_dataplane.go 1747: failed to wipe the XDP state x (/usr/lib/calico/bpf/filter.o) ${"z".repeat(1000)}`;
    const scan = scanLines([long, "libbpf: Error loading BTF: Invalid argument(22)"]);
    const sample = scan.signals[0]?.samples[0] ?? "";
    assert.equal(sample.split("\n")[0]?.length, 300);
  });
});

describe("fingerprints", () => {
  const table = [
    { version: "v3.28.0", id: "wipe-1747", wipes: true },
    { version: "v3.27.3", id: "wipe-1822", wipes: true },
    { version: "v3.27.3", id: "apply-2154", wipes: false },
    { version: "v3.26.5", id: "apply-2036", wipes: false },
  ] as const;
  for (const row of table) {
    test(`${row.version} storm hits ${row.id}`, () => {
      const storm = felixLines({ kind: "storm", calicoVersion: row.version, durationSeconds: 40 });
      const n = cyclesIn(storm);
      const hits = fingerprintCounts(scanLines(storm.map((l) => l.text)));
      assert.equal(hits[row.id], row.wipes ? 10 * n : n);
    });
  }

  test("older Felix without the felix/ prefix still hits", () => {
    const storm = felixLines({ kind: "storm", calicoVersion: "v3.27.3", durationSeconds: 40 });
    const lines = storm.map((l) => l.text.replace(" felix/int_dataplane.go ", " int_dataplane.go "));
    const n = cyclesIn(storm);
    const hits = fingerprintCounts(scanLines(lines));
    assert.equal(hits["wipe-1822"], 10 * n);
    assert.equal(hits["apply-2154"], n);
  });

  test("the same message at another line, or another message at the line, is no hit", () => {
    const hits = fingerprintCounts(
      scanLines([
        "2024-05-26 10:00:00.000 [WARNING][1] felix/int_dataplane.go 1748: failed to wipe the XDP state",
        "2024-05-26 10:00:00.000 [WARNING][1] felix/int_dataplane.go 1747: something else entirely",
      ]),
    );
    assert.deepEqual(hits, {});
  });
});
