// Rotated sets read as one source, --since/--until windows, and --sample, on generated logs.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parse } from "yaml";
import type { Advisory } from "../model/advisory.js";
import type { LogScan } from "../model/logs.js";
import { felixLog, toCri, type FelixLogKind } from "../../scripts/fixtures/felix-log.js";
import { compileSignatures, groupRotated, LogScanner, rotationOf, scanLogSet } from "./index.js";
import { insideWindow, lineStampMs, type TimeWindow } from "./window.js";

const REAL = parse(
  readFileSync(new URL("../../../advisories/CNID-2024-0001.yaml", import.meta.url), "utf8"),
) as Advisory;
const SET = compileSignatures([REAL]);
const T0 = Date.UTC(2024, 7, 9, 0, 0, 0);
const HOUR = 3_600_000;

/** One hour of Felix log starting `hour` hours after T0. */
function hourOf(kind: FelixLogKind, hour: number, seed = hour + 1): string[] {
  return [
    ...felixLog({
      calicoVersion: "v3.28.0",
      kind,
      start: new Date(T0 + hour * HOUR),
      durationSeconds: 3600,
      stormIntervalSeconds: 30,
      quietIntervalSeconds: 5,
      seed,
    }),
  ].map((l) => l.text);
}

function byLines(lines: readonly string[]): LogScan {
  const scanner = new LogScanner(SET);
  for (const line of lines) scanner.pushLine(line);
  return scanner.finish();
}

function text(lines: readonly string[]): Buffer {
  return Buffer.from(`${lines.join("\n")}\n`, "utf8");
}

/** The reference window: each line with a full timestamp decides; the others follow it. */
function filterLines(lines: readonly string[], window: TimeWindow): string[] {
  let inside = window.sinceMs === undefined;
  return lines.filter((line) => {
    const buf = Buffer.from(line, "latin1");
    const ms = lineStampMs(buf, 0, buf.length);
    if (!Number.isNaN(ms)) inside = insideWindow(window, ms);
    return inside;
  });
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "cnidoctor-sets-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("rotated sets", () => {
  test("rotation suffixes: Felix/logrotate numbers, kubelet dates, docker json-file", () => {
    assert.deepEqual(rotationOf("current"), { base: "current", age: 0, dated: false });
    assert.equal(rotationOf("current.2.gz").base, "current");
    assert.ok(rotationOf("current.2.gz").age > rotationOf("current.1").age);
    assert.equal(rotationOf("0.log.20240809-085308.gz").base, "0.log");
    assert.ok(rotationOf("0.log.20240808-010000").age > rotationOf("0.log.20240809-085308.gz").age);
    assert.equal(rotationOf("abc-json.log.1").base, "abc-json.log");
    assert.equal(rotationOf("10.0.0.1").base, "10.0.0.1");
  });

  test("sets are grouped per directory and name, oldest first; mtime decides a tie", async () => {
    await withDir(async (dir) => {
      const names = [
        "current",
        "current.1",
        "current.2.gz",
        "0.log",
        "0.log.20240809-085308.gz",
        "0.log.20240808-085308",
        "x-json.log.1",
        "x-json.log",
        "a.1",
        "a.1.gz",
      ];
      for (const n of names) await writeFile(join(dir, n), "x\n");
      await utimes(join(dir, "a.1.gz"), 1000, 1000);
      await utimes(join(dir, "a.1"), 2000, 2000);
      const sets = await groupRotated(names.map((n) => join(dir, n)));
      const short = sets.map((s) => s.members.map((m) => m.slice(dir.length + 1)));
      assert.deepEqual(short, [
        ["current.2.gz", "current.1", "current"],
        ["0.log.20240808-085308", "0.log.20240809-085308.gz", "0.log"],
        ["x-json.log.1", "x-json.log"],
        ["a.1.gz", "a.1"],
      ]);
    });
  });

  test("a set with a .gz member is one source whose counts, times and rates span all files", async () => {
    await withDir(async (dir) => {
      const oldest = hourOf("storm", 0);
      const middle = hourOf("quiet", 1);
      const newest = hourOf("storm", 2);
      await writeFile(join(dir, "current.2.gz"), gzipSync(text(oldest)));
      await writeFile(join(dir, "current.1"), text(middle));
      await writeFile(join(dir, "current"), text(newest));
      const [only] = await groupRotated(["current", "current.1", "current.2.gz"].map((n) => join(dir, n)));
      assert.ok(only);
      const result = await scanLogSet(only.members, SET);
      assert.equal(result.status, "read");
      assert.deepEqual(result.source, { kind: "file", path: join(dir, "current"), members: only.members });
      const expected = byLines([...oldest, ...middle, ...newest]);
      assert.deepEqual(result.scan, expected);
      assert.ok(expected.signals.some((s) => s.role === "symptom" && (s.ratePerHour ?? 0) > 0));
      assert.equal(result.scan.firstTimestamp?.slice(0, 13), "2024-08-09T00");
      assert.equal(result.scan.lastTimestamp?.slice(0, 13), "2024-08-09T02");
    });
  });

  test("a truncated .gz member makes the set partial with one line naming it; the rest still counts", async () => {
    await withDir(async (dir) => {
      const gz = gzipSync(text(hourOf("storm", 0)));
      const newest = hourOf("quiet", 1);
      await writeFile(join(dir, "0.log.20240809-010000.gz"), gz.subarray(0, Math.floor(gz.length / 2)));
      await writeFile(join(dir, "0.log"), text(newest));
      const members = [join(dir, "0.log.20240809-010000.gz"), join(dir, "0.log")];
      const result = await scanLogSet(members, SET);
      assert.equal(result.status, "partial");
      assert.match(result.problem ?? "", /^\S+0\.log\.20240809-010000\.gz: truncated gzip stream after /);
      assert.ok(!(result.problem ?? "").includes("\n"));
      assert.ok(result.scan.lines > newest.length);
      assert.equal(result.scan.lastTimestamp?.slice(0, 13), "2024-08-09T01");
    });
  });
});

describe("--since / --until", () => {
  // The file starts mid-record: lines without a timestamp come first.
  const lines = [
    "\tcontinuation of a record that started in the previous file",
    "\tand another one",
    ...hourOf("quiet", 0),
    ...hourOf("storm", 1),
    ...hourOf("quiet", 2),
    ...hourOf("quiet", 3),
  ];
  const windows: [string, TimeWindow][] = [
    ["storm inside", { sinceMs: T0 + 0.5 * HOUR, untilMs: T0 + 2.5 * HOUR }],
    ["after the storm", { sinceMs: T0 + 2 * HOUR }],
    ["before the storm", { untilMs: T0 + HOUR - 1 }],
    ["mid-storm, both bounds between lines", { sinceMs: T0 + 1.3 * HOUR + 7, untilMs: T0 + 1.6 * HOUR + 3 }],
    ["empty", { sinceMs: T0 + 10 * HOUR }],
  ];

  test("the answer depends on the window", async () => {
    await withDir(async (dir) => {
      const path = join(dir, "current");
      await writeFile(path, text(lines));
      const symptoms = async (since?: number, until?: number): Promise<number> => {
        const options: Parameters<typeof scanLogSet>[2] = {};
        if (since !== undefined) options.since = { at: since };
        if (until !== undefined) options.until = { at: until };
        const r = await scanLogSet([path], SET, options);
        return r.scan.signals.filter((s) => s.role === "symptom").reduce((n, s) => n + s.count, 0);
      };
      assert.ok((await symptoms()) > 0);
      assert.ok((await symptoms(T0 + HOUR, T0 + 2 * HOUR)) > 0);
      assert.equal(await symptoms(T0 + 2 * HOUR + 60_000), 0);
      assert.equal(await symptoms(undefined, T0 + HOUR - 1), 0);
      const seen: number[] = [];
      const r = await scanLogSet([path], SET, {
        since: { beforeEnd: 90 * 60_000 },
        onProgress: (done, total) => seen.push(done, total ?? -1),
      });
      // Progress counts the bytes the binary search passed over, so it still ends at the file size.
      const size = text(lines).length;
      assert.deepEqual(seen.slice(-2), [size, size]);
      assert.ok(r.scan.bytes < size / 2);
      assert.deepEqual(r.scan.window, {
        since: new Date(Date.parse(byLines(lines).lastTimestamp ?? "") - 90 * 60_000).toISOString(),
      });
      assert.equal(r.scan.signals.length, 0);
    });
  });

  for (const format of ["plain", "plain.gz", "cri.gz"] as const) {
    test(`${format}: equals filtering line by line`, async () => {
      await withDir(async (dir) => {
        const body =
          format === "cri.gz"
            ? lines.map((l, i) =>
                toCri({ time: new Date(T0), text: l }, i % 9 === 0 ? "stderr" : "stdout").replace(
                  /^\S+/,
                  new Date(T0 + Math.floor((i * (4 * HOUR)) / lines.length)).toISOString(),
                ),
              )
            : lines;
        const path = join(dir, "felix.log");
        await writeFile(path, format === "plain" ? text(body) : gzipSync(text(body)));
        for (const [name, window] of windows) {
          const options: Parameters<typeof scanLogSet>[2] = {};
          if (window.sinceMs !== undefined) options.since = { at: window.sinceMs };
          if (window.untilMs !== undefined) options.until = { at: window.untilMs };
          const result = await scanLogSet([path], SET, options);
          const { window: applied, ...scan } = result.scan;
          assert.deepEqual(scan, byLines(filterLines(body, window)), name);
          assert.equal(
            applied?.since,
            window.sinceMs === undefined ? undefined : new Date(window.sinceMs).toISOString(),
          );
        }
      });
    });
  }
});

describe("--sample", () => {
  test("stops once 20 symptom records span 10 minutes, and says how much it read", async () => {
    await withDir(async (dir) => {
      const path = join(dir, "current");
      const lines = [
        ...hourOf("storm", 0),
        ...hourOf("storm", 1),
        ...hourOf("storm", 2),
        ...hourOf("storm", 3),
      ];
      const data = Buffer.concat(Array.from({ length: 30 }, () => text(lines)));
      await writeFile(path, data);
      const sampled = await scanLogSet([path], SET, { sample: true });
      const sample = sampled.scan.sample;
      assert.ok(sample);
      assert.equal(sample.stoppedEarly, true);
      assert.equal(sample.totalBytes, data.length);
      assert.ok(sample.bytesRead < data.length && sample.bytesRead > 0);
      assert.match(sample.reason ?? "", /20 symptom records spanning 10 minutes/);
      const symptoms = sampled.scan.signals.filter((s) => s.role === "symptom");
      assert.ok(symptoms.some((s) => s.count >= 20));
      const full = await scanLogSet([path], SET);
      assert.equal(full.scan.sample, undefined);
      assert.ok(full.scan.lines > sampled.scan.lines);
    });
  });

  test("reads everything when the evidence never becomes conclusive", async () => {
    await withDir(async (dir) => {
      const path = join(dir, "current");
      const data = text([...hourOf("quiet", 0), ...hourOf("quiet", 1)]);
      await writeFile(path, gzipSync(data));
      const result = await scanLogSet([path], SET, { sample: true });
      assert.equal(result.scan.sample?.stoppedEarly, false);
      assert.equal(result.scan.sample.bytesRead, result.scan.sample.totalBytes);
      assert.equal(result.scan.bytes, data.length);
    });
  });
});
