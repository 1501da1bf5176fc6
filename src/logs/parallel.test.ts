// Differential test of the two-thread split: a large plain file scanned on two threads (split
// forced at awkward offsets) gives exactly the LogScan of one thread.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { Advisory } from "../model/advisory.js";
import { felixLog, type FelixLogKind } from "../../scripts/fixtures/felix-log.js";
import { compileSignatures, scanLogSet } from "./index.js";
import { scanRangeOnWorker, splitPoint } from "./parallel.js";

const REAL = parse(
  readFileSync(new URL("../../../advisories/CNID-2024-0001.yaml", import.meta.url), "utf8"),
) as Advisory;
const SET = compileSignatures([REAL]);
const T0 = Date.UTC(2024, 7, 9);

function hour(kind: FelixLogKind, h: number): string[] {
  return [
    ...felixLog({
      calicoVersion: "v3.28.0",
      kind,
      start: new Date(T0 + h * 3_600_000),
      durationSeconds: 3600,
      stormIntervalSeconds: 20,
      quietIntervalSeconds: 0.5,
      seed: h + 1,
    }),
  ].map((l) => l.text);
}

/** Several MB: quiet hours and storms (multi-line BTF dumps), some CRLF endings and a long line. */
function generated(): Buffer {
  const lines: string[] = [];
  for (let h = 0; h < 8; h++) for (const line of hour(h % 3 === 1 ? "storm" : "quiet", h)) lines.push(line);
  lines.splice(5000, 0, `continuation ${"x".repeat(200_000)}`);
  return Buffer.from(`${lines.map((l, i) => (i % 7 === 0 ? `${l}\r` : l)).join("\n")}\n`, "utf8");
}

describe("two threads equal one", () => {
  test("identical LogScan with the split forced at awkward offsets", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cnidoctor-par-"));
    try {
      const data = generated();
      const path = join(dir, "current");
      await writeFile(path, data);
      const single = await scanLogSet([path], SET, { threads: 1 });
      assert.equal(single.status, "read");
      assert.ok(single.scan.signals.length > 0 && data.length > 4 * 1024 * 1024);
      const btf = data.indexOf("libbpf: Error loading .BTF into kernel");
      const inRecord = data.indexOf("\n", data.indexOf("libbpf:", btf - 3000)) + 1;
      const awkward = [
        1,
        Math.floor(data.length / 2),
        btf + 5, // mid-line, inside a multi-line record: the split moves to the next record start
        inRecord, // exactly at a continuation line's start
        data.indexOf("x".repeat(1000)), // inside the long line
        data.lastIndexOf("\n", data.length - 2) - 10, // near the end
      ];
      for (const at of awkward) {
        const splits: number[] = [];
        const split = await scanLogSet([path], SET, {
          minParallelBytes: 1,
          splitAt: at,
          onSplit: (offset) => splits.push(offset),
        });
        assert.deepEqual(split, single, `split near ${at}`);
        const chosen = splits[0];
        if (chosen !== undefined) {
          assert.ok(chosen >= at && data[chosen - 1] === 10, `split at a line start after ${at}`);
          assert.match(data.toString("latin1", chosen, chosen + 20), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
        }
      }
      // The split must really happen on most of them.
      let count = 0;
      for (const at of awkward) {
        await scanLogSet([path], SET, { minParallelBytes: 1, splitAt: at, onSplit: () => count++ });
      }
      assert.ok(count >= awkward.length - 1, `${count} splits`);
      // The worker itself (a failed worker would be replaced silently by this thread).
      const whole = scanRangeOnWorker(
        path,
        0,
        data.length,
        { set: SET, options: {}, advance: () => undefined },
        new Date(),
      );
      assert.deepEqual(await whole.result, single.scan);
      // A window and a split together.
      const window = { since: { at: T0 + 3_600_000 + 600_000 }, until: { at: T0 + 5 * 3_600_000 } };
      assert.deepEqual(
        await scanLogSet([path], SET, { ...window, minParallelBytes: 1 }),
        await scanLogSet([path], SET, { ...window, threads: 1 }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("no split for CRI/docker envelopes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cnidoctor-par-"));
    try {
      const path = join(dir, "0.log");
      await writeFile(
        path,
        "2024-08-09T00:00:00.000000000Z stdout F 2024-08-09 00:00:00.000 [INFO][1] a.go 1: x\n".repeat(2000),
      );
      const handle = await open(path, "r");
      try {
        assert.equal(await splitPoint(handle, 0, 2000 * 80, 1000), undefined);
      } finally {
        await handle.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
