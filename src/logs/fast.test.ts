// Differential tests: the bulk path (byte buffers, needles, records assembled only around hits) must
// give exactly the LogScan of the line-by-line path, whatever the chunking.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { parse } from "yaml";
import type { Advisory } from "../model/advisory.js";
import type { LogScan } from "../model/logs.js";
import {
  felixLog,
  hostChurnSyslog,
  seededRandom,
  toCri,
  toDockerJson,
  type FelixLogKind,
  type LogLine,
} from "../../scripts/fixtures/felix-log.js";
import { ADVISORY, START } from "../../test/fixtures/logs/incident.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileSignatures, LogScanner, scanLogFile, scanLogStream, type SignatureSet } from "./index.js";
import { FastFeeder } from "./fast.js";
import { requiredLiteral, pureLiteral } from "./needles.js";

const REAL = parse(
  readFileSync(new URL("../../../advisories/CNID-2024-0001.yaml", import.meta.url), "utf8"),
) as Advisory;
const SETS: [string, SignatureSet][] = [
  ["test advisory", compileSignatures([ADVISORY])],
  ["CNID-2024-0001", compileSignatures([REAL])],
];

function byLines(set: SignatureSet, lines: readonly string[]): LogScan {
  const scanner = new LogScanner(set);
  for (const line of lines) scanner.pushLine(line);
  return scanner.finish();
}

/** Feeds `text` to the bulk path in chunks of random sizes (1 byte up to `maxChunk`). */
function byChunks(
  set: SignatureSet,
  text: Buffer,
  seed: number,
  maxChunk: number,
  {
    capacity,
    kernel = true,
    planAfter = 0,
  }: { capacity?: number; kernel?: boolean; planAfter?: number | "default" } = {},
): LogScan {
  const scanner = new LogScanner(set);
  // The bulk path from the first byte unless asked otherwise: these inputs are small.
  const feeder = new FastFeeder(scanner, set, capacity, {
    kernel,
    ...(planAfter === "default" ? {} : { planAfter }),
  });
  const rand = seededRandom(seed);
  for (let pos = 0; pos < text.length;) {
    const size = 1 + Math.floor(rand() * maxChunk);
    feeder.feed(text.subarray(pos, pos + size));
    pos += size;
  }
  feeder.end();
  return scanner.finish();
}

function felix(
  kind: FelixLogKind,
  seed: number,
  extra: Partial<Parameters<typeof felixLog>[0]> = {},
): LogLine[] {
  return [
    ...felixLog({
      calicoVersion: seed % 2 === 0 ? "v3.28.0" : "v3.27.3",
      kind,
      start: new Date(START.getTime() + seed * 3_600_000),
      durationSeconds: 200,
      stormIntervalSeconds: 40,
      quietIntervalSeconds: 0.5,
      seed,
      ...extra,
    }),
  ];
}

/** A mixed source: storm and lookalikes, interleaved with quiet stretches, in one envelope style. */
function mixedLines(seed: number, style: "plain" | "cri" | "docker" | "mixed" | "partial"): string[] {
  const rand = seededRandom(seed * 7919);
  const parts: LogLine[] = [
    ...felix("quiet", seed),
    ...felix("storm", seed + 1),
    ...felix("eperm-lookalike", seed + 2),
    ...felix("ebpf-vmlinux-lookalike", seed + 3),
    ...felix("storm", seed + 4, { severityScreen: "Warning" }),
    ...felix("pinned-map-lookalike", seed + 5),
  ];
  const out: string[] = [];
  for (const line of parts) {
    const pick = style === "mixed" ? Math.floor(rand() * 3) : -1;
    if (style === "plain" || pick === 0) out.push(line.text);
    else if (style === "cri" || pick === 1) out.push(toCri(line, rand() < 0.1 ? "stderr" : "stdout"));
    else if (style === "docker" || pick === 2) out.push(toDockerJson(line));
    else {
      // CRI with some lines split into P fragments, the way kubelet cuts long lines.
      const cri = toCri(line);
      const at = cri.indexOf(" F ") + 3;
      const body = cri.slice(at);
      const prefix = cri.slice(0, at - 3);
      if (body.length > 20 && rand() < 0.2) {
        const cut = 1 + Math.floor(rand() * (body.length - 1));
        out.push(`${prefix} P ${body.slice(0, cut)}`, `${prefix} F ${body.slice(cut)}`);
      } else {
        out.push(cri);
      }
    }
  }
  return out;
}

function text(lines: readonly string[]): Buffer {
  return Buffer.from(`${lines.join("\n")}\n`, "utf8");
}

describe("bulk path equals the line-by-line path", () => {
  const styles = ["plain", "cri", "docker", "mixed", "partial"] as const;
  for (const [name, set] of SETS) {
    for (const style of styles) {
      test(`${name}, ${style} envelopes, random chunkings`, () => {
        const lines = mixedLines(styles.indexOf(style) + 1, style);
        const expected = byLines(set, lines);
        assert.ok(expected.signals.length > 0, "the input must exercise the signatures");
        const bytes = text(lines);
        assert.ok(bytes.length > 16 * 1024, "the input must outgrow the smaller plan threshold");
        for (const kernel of [true, false]) {
          // 0: the bulk path from the first byte; 16 KiB: held back, then planned; the default:
          // inputs this small go the exact way whole.
          for (const planAfter of [0, 16 * 1024, "default"] as const) {
            for (const [seed, maxChunk] of [
              [1, 7],
              [2, 4096],
              [3, 300_000],
              [4, 4 * 1024 * 1024],
            ] as const) {
              const got = byChunks(set, bytes, seed, maxChunk, { capacity: 64 * 1024, kernel, planAfter });
              assert.deepEqual(
                got,
                expected,
                `chunks ≤ ${maxChunk}, kernel ${String(kernel)}, plan after ${String(planAfter)}`,
              );
            }
          }
        }
      });
    }
  }

  test("feeders interleaved on one thread keep their own kernel memory (as pod logs in a live scan)", () => {
    const set = SETS[1]?.[1] ?? compileSignatures([]);
    const inputs = [text(mixedLines(1, "plain")), text(mixedLines(2, "cri")), text(mixedLines(3, "mixed"))];
    const expected = inputs.map((b) => byChunks(set, b, 1, 5000, { capacity: 16 * 1024 }));
    const scanners = inputs.map(() => new LogScanner(set));
    const feeders = scanners.map((sc) => new FastFeeder(sc, set, 16 * 1024, { planAfter: 0 }));
    const step = 3001;
    for (let pos = 0; inputs.some((b) => pos < b.length); pos += step) {
      inputs.forEach((b, i) => {
        if (pos < b.length) feeders[i]?.feed(b.subarray(pos, pos + step));
      });
    }
    feeders.forEach((f) => {
      f.end();
    });
    assert.deepEqual(
      scanners.map((sc) => sc.finish()),
      expected,
    );
  });

  test("syslog host churn with Felix lines, CRLF endings, and a file that starts mid-record", () => {
    const [, set] = SETS[1] ?? SETS[0] ?? ["", compileSignatures([])];
    const churn = [...hostChurnSyslog({ host: "node-1", start: START, cycles: 30, intervalSeconds: 20 })].map(
      (l) => l.text,
    );
    const storm = felix("storm", 9).map((l) => l.text);
    const lines = [...storm.slice(7), ...churn, ...storm].map((l, i) => (i % 5 === 0 ? `${l}\r` : l));
    const expected = byLines(set, lines);
    assert.ok(expected.records > 0 && expected.signals.length > 0);
    assert.deepEqual(byChunks(set, text(lines), 5, 10_000, { capacity: 32 * 1024 }), expected);
    assert.deepEqual(byChunks(set, text(lines), 5, 10_000, { capacity: 32 * 1024, kernel: false }), expected);
  });

  test("records longer than maxRecordLines and lines without any timestamp", () => {
    const set = SETS[0]?.[1] ?? compileSignatures([]);
    const storm = felix("storm", 11).map((l) => l.text);
    const noise = Array.from({ length: 1500 }, (_, i) => `continuation ${i} of a long record`);
    const lines = [
      storm[0] ?? "",
      ...noise,
      ...storm,
      ...noise.slice(0, 900),
      "failed to wipe the XDP state",
    ];
    const expected = byLines(set, lines);
    assert.deepEqual(byChunks(set, text(lines), 6, 50_000, { capacity: 16 * 1024 }), expected);
  });

  test("non-ASCII text and invalid UTF-8 between storms", () => {
    const set = SETS[1]?.[1] ?? compileSignatures([]);
    const storm = felix("storm", 12).map((l) => l.text);
    const odd = [
      "2024-05-26 10:00:00.000 [INFO][7] felix/x.go 1: größe → ✓",
      "\u00e9t\u00e9 sans horodatage",
    ];
    const lines = [...storm, ...odd, ...storm];
    const expected = byLines(set, lines);
    assert.deepEqual(byChunks(set, text(lines), 7, 20_000, { capacity: 16 * 1024 }), expected);
    const invalid = Buffer.concat([text(storm), Buffer.from([0xff, 0xfe, 0x41, 0x0a]), text(storm)]);
    const viaLines = byLines(set, [...storm, Buffer.from([0xff, 0xfe, 0x41]).toString("utf8"), ...storm]);
    // Bytes are counted as read; pushLine() can only count the decoded line (U+FFFD is 3 bytes).
    assert.deepEqual(byChunks(set, invalid, 8, 9_000, { capacity: 16 * 1024 }), {
      ...viaLines,
      bytes: invalid.length,
    });
  });

  test("scanLogStream on gzip and plain streams gives the line-by-line result", async () => {
    const set = SETS[1]?.[1] ?? compileSignatures([]);
    const lines = mixedLines(3, "mixed");
    const expected = byLines(set, lines);
    const plain = text(lines);
    const gz = gzipSync(plain);
    for (const data of [plain, gz]) {
      const chunks: Buffer[] = [];
      for (let pos = 0; pos < data.length; pos += 65_521) chunks.push(data.subarray(pos, pos + 65_521));
      const result = await scanLogStream(Readable.from(chunks), { kind: "file", path: "-" }, set);
      assert.equal(result.status, "read");
      assert.deepEqual(result.scan, expected);
    }
  });
});

describe("literals a regex requires", () => {
  test("pure literals unescape punctuation and refuse operators", () => {
    assert.equal(pureLiteral("Error loading \\.BTF into kernel: -22"), "Error loading .BTF into kernel: -22");
    assert.equal(pureLiteral("a+b"), undefined);
    assert.equal(pureLiteral("\\d"), undefined);
  });

  test("the longest mandatory top-level run, nothing under alternation or optional", () => {
    assert.equal(requiredLiteral("VAR calico_(failsafe_ports|prefilter_v4) "), "VAR calico_");
    assert.equal(requiredLiteral("(a|b).*/usr/lib/calico/bpf/filter\\.o"), "/usr/lib/calico/bpf/filter.o");
    assert.equal(requiredLiteral("abcd?efg"), "abc");
    assert.equal(requiredLiteral("x[abc]yzaw*"), "yza");
    assert.equal(requiredLiteral("one|two three"), undefined);
    assert.equal(requiredLiteral("ab"), undefined);
  });
});

/** Random bytes with log-like structure: storm text, random bytes (invalid UTF-8, NUL), CR, long lines. */
function fuzzInput(seed: number): Buffer {
  const rand = seededRandom(seed);
  const storm = felix("storm", seed).map((l) => l.text);
  const parts: Buffer[] = [];
  const pieces = 5 + Math.floor(rand() * 20);
  for (let i = 0; i < pieces; i++) {
    const pick = rand();
    if (pick < 0.4) {
      const from = Math.floor(rand() * storm.length);
      parts.push(text(storm.slice(from, from + 1 + Math.floor(rand() * 80))));
    } else if (pick < 0.7) {
      const junk = Buffer.alloc(1 + Math.floor(rand() * 2000));
      for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rand() * 256);
      parts.push(junk);
    } else if (pick < 0.85) {
      parts.push(Buffer.from(`${"x".repeat(Math.floor(rand() * 40_000))}\r\n`));
    } else {
      parts.push(
        Buffer.from("2024-05-26 10:00:00.000 [WARNING][1] felix/a.go 1: failed to wipe the XDP state\r\n"),
      );
    }
  }
  parts.push(Buffer.from("\n"));
  return Buffer.concat(parts);
}

describe("fuzz: random bytes, invalid UTF-8, CR, long lines (seeded)", () => {
  test("the bulk path equals line-by-line decoding for 40 random inputs and chunkings", () => {
    const set = SETS[1]?.[1] ?? compileSignatures([]);
    for (let seed = 1; seed <= 40; seed++) {
      const input = fuzzInput(seed);
      const lines = input
        .subarray(0, input.length - 1)
        .toString("utf8")
        .split("\n");
      const decoded = input
        .subarray(0, input.length - 1)
        .toString("latin1")
        .split("\n")
        .map((_, i) => lines[i] ?? "");
      const expected = { ...byLines(set, decoded), bytes: input.length };
      assert.deepEqual(
        byChunks(set, input, seed, 1 + seed * 997, { capacity: 8 * 1024 }),
        expected,
        `seed ${seed}`,
      );
      const js = byChunks(set, input, seed, 1 + seed * 997, { capacity: 8 * 1024, kernel: false });
      assert.deepEqual(js, expected, `seed ${seed}, JS path`);
    }
  });

  test("truncated gzip at random points: partial or unreadable with one clear line, never a throw", async () => {
    const set = SETS[1]?.[1] ?? compileSignatures([]);
    const gz = gzipSync(text(felix("storm", 3).map((l) => l.text)));
    const rand = seededRandom(99);
    for (let i = 0; i < 20; i++) {
      const cut = 10 + Math.floor(rand() * (gz.length - 20));
      const result = await scanLogStream(
        Readable.from([gz.subarray(0, cut)]),
        { kind: "file", path: "x.gz" },
        set,
      );
      assert.ok(result.status === "partial" || result.status === "unreadable", `cut ${cut}`);
      assert.match(result.problem ?? "", /^x\.gz: (truncated|corrupt) gzip stream after /);
    }
  });
});

describe("progress", () => {
  test("onProgress reports bytes read up to the file size", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cnidoctor-progress-"));
    try {
      const data = text(mixedLines(2, "plain"));
      const path = join(dir, "felix.log");
      await writeFile(path, Buffer.concat([data, data, data, data]));
      const seen: [number, number | undefined][] = [];
      const set = SETS[1]?.[1] ?? compileSignatures([]);
      await scanLogFile(path, set, { onProgress: (done, total) => seen.push([done, total]) });
      assert.ok(seen.length >= 1);
      assert.deepEqual(seen.at(-1), [data.length * 4, data.length * 4]);
      for (let i = 1; i < seen.length; i++) assert.ok((seen[i]?.[0] ?? 0) > (seen[i - 1]?.[0] ?? 0));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
