// The line kernel against its JS reference: it may only call a line ordinary when bytes.ts would
// classify it as a plain or complete-CRI Felix record start without a hit, and must do so for every
// such line (or the fast path would silently stop paying off).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { Advisory } from "../model/advisory.js";
import {
  felixLog,
  seededRandom,
  toCri,
  toDockerJson,
  type LogLine,
} from "../../scripts/fixtures/felix-log.js";
import { START } from "../../test/fixtures/logs/incident.js";
import { classifyBytes, startKindBytes } from "./bytes.js";
import { assignBuckets, lineKernel, literalFinder, needleTables, type LineKernel } from "./kernel.js";
import { ENV_CRI, ENV_NONE, LineInfo, START_FELIX, START_NONE } from "./lines.js";
import { findHits, gramRarity, planNeedles, type Needle } from "./needles.js";
import { RUN_CONTINUATION, RUN_CRI_FELIX, RUN_FELIX, RUN_OTHER } from "./scan-types.js";
import { compileSignatures } from "./signatures.js";

const MAX_LINE = 4096;

function loaded(): LineKernel {
  const kernel = lineKernel();
  assert.ok(kernel, "dist/src/logs/line-kernel.wasm must be built and loadable (npm run build)");
  return kernel;
}

function needle(text: string): Needle {
  return { bytes: Buffer.from(text, "latin1"), targets: [{ text: Buffer.from(text, "latin1"), offset: 0 }] };
}

/** What the per-line JS path makes of each line (hot when it holds a needle's literal): the kind the kernel must report. */
function expectedKinds(buf: Buffer, needles: readonly Needle[]): number[] {
  const out: number[] = [];
  const info = new LineInfo();
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    const line = buf.subarray(pos, nl);
    const cr = nl > pos && buf[nl - 1] === 13;
    classifyBytes(buf, pos, nl, nl, info);
    const start = startKindBytes(buf, info.msgStart, nl);
    const hit = needles.some((n) => n.targets.some((t) => line.includes(t.text)));
    // The kernel's own (stricter) test for a continuation: the first byte alone.
    const lead = buf[pos] ?? 0;
    const second = nl > pos + 1 ? String.fromCharCode(buf[pos + 1] ?? 0) : "";
    const continuation =
      nl === pos || !/[0-9{A-Z[]/.test(String.fromCharCode(lead)) || (lead === 91 && !/[A-Z]/.test(second));
    let kind = RUN_OTHER;
    if (!cr && !hit && nl - pos <= MAX_LINE) {
      if (start === START_FELIX && info.envelope === ENV_NONE) kind = RUN_FELIX;
      else if (start === START_FELIX && info.envelope === ENV_CRI && !info.partial) kind = RUN_CRI_FELIX;
      else if (continuation) {
        assert.ok(info.envelope === ENV_NONE && start === START_NONE, "a continuation starts nothing");
        kind = RUN_CONTINUATION;
      }
    }
    out.push(kind);
    pos = nl + 1;
  }
  return out;
}

/** The kernel's kind for each line of buf (which ends with "\n"), batch by batch. */
function kernelKinds(kernel: LineKernel, buf: Buffer, needles: readonly Needle[], cap?: number): number[] {
  assert.ok(kernel.prepare(buf, 0, buf.length, { needles, maxLine: MAX_LINE }));
  const starts = [0];
  for (let p = buf.indexOf(10); p >= 0 && p + 1 < buf.length; p = buf.indexOf(10, p + 1)) starts.push(p + 1);
  const out: number[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const stop = kernel.next(pos, cap);
    assert.ok(stop > pos, `progress from ${String(pos)}`);
    if (cap !== undefined) assert.ok(kernel.count <= cap, `at most ${String(cap)} runs per batch`);
    const base = out.length;
    for (let i = 0; i < kernel.count; i++) {
      const first = kernel.runLine(i);
      const end = i + 1 < kernel.count ? kernel.runLine(i + 1) : kernel.lines;
      assert.equal(kernel.runStart(i), starts[base + first], `run ${String(i)} starts at its first line`);
      if (i === 0) assert.equal(first, 0);
      for (let k = first; k < end; k++) out.push(kernel.runKind(i));
    }
    assert.equal(out.length, base + kernel.lines);
    pos = stop;
  }
  return out;
}

function logLines(seed: number): LogLine[] {
  return [
    ...felixLog({
      calicoVersion: "v3.28.0",
      kind: seed % 2 === 0 ? "storm" : "quiet",
      start: new Date(START.getTime() + seed * 3_600_000),
      durationSeconds: 120,
      stormIntervalSeconds: 10,
      quietIntervalSeconds: 0.5,
      seed,
    }),
  ];
}

/** Log lines in every envelope, with random damage near the start where the shape is decided. */
function shapedInput(seed: number): Buffer {
  const rand = seededRandom(seed);
  const lines: string[] = [];
  for (const line of logLines(seed)) {
    const pick = rand();
    let text = line.text;
    if (pick < 0.3) text = toCri(line, rand() < 0.5 ? "stdout" : "stderr");
    else if (pick < 0.35) text = toCri(line).replace(" F ", " P ");
    else if (pick < 0.4) text = toDockerJson(line);
    else if (pick < 0.45) text = `${text}\r`;
    else if (pick < 0.5) text = text.slice(0, Math.floor(rand() * 50));
    if (rand() < 0.3) {
      const at = Math.floor(rand() * Math.min(text.length, 60));
      const chars = "0123456789 -:.,T[]FPstdoure\t";
      const c = chars.charAt(Math.floor(rand() * chars.length));
      text = `${text.slice(0, at)}${c}${text.slice(at + (rand() < 0.5 ? 1 : 0))}`;
    }
    lines.push(text);
  }
  lines.push(
    "x".repeat(MAX_LINE + 1),
    "",
    `2024-05-26 10:00:00.000 [INFO][1] a.go 1: ${"y".repeat(MAX_LINE)}`,
  );
  return Buffer.from(`${lines.join("\n")}\n`, "latin1");
}

describe("line kernel", () => {
  test("the built module loads", () => {
    loaded();
  });

  test("line kinds equal the JS classifiers on damaged lines in every envelope (20 seeds)", () => {
    const kernel = loaded();
    const seen = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const buf = shapedInput(seed);
      const expected = expectedKinds(buf, []);
      assert.deepEqual(kernelKinds(kernel, buf, []), expected, `seed ${String(seed)}`);
      for (const k of expected) seen.add(k);
    }
    assert.deepEqual([...seen].sort(), [RUN_OTHER, RUN_FELIX, RUN_CRI_FELIX, RUN_CONTINUATION]);
  });

  test("a line holding any needle is never ordinary, and one holding none is (random needles)", () => {
    const kernel = loaded();
    const rand = seededRandom(4242);
    const alphabet = "abcdeXDP '_\\\"";
    for (let round = 0; round < 30; round++) {
      const needles = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => {
        const len = 1 + Math.floor(rand() * 4);
        return needle(
          Array.from({ length: len }, () => alphabet.charAt(Math.floor(rand() * alphabet.length))).join(""),
        );
      });
      const lines = logLines(round).map((l) => {
        if (rand() >= 0.2) return l.text;
        const n = needles[Math.floor(rand() * needles.length)]?.bytes.toString("latin1") ?? "";
        const at = 25 + Math.floor(rand() * (l.text.length - 25));
        return `${l.text.slice(0, at)}${n}${l.text.slice(at)}`;
      });
      const buf = Buffer.from(`${lines.join("\n")}\n`, "latin1");
      assert.deepEqual(
        kernelKinds(kernel, buf, needles),
        expectedKinds(buf, needles),
        `round ${String(round)}`,
      );
    }
  });

  test("the advisory's needle plan: hot lines are other, the rest of the storm is counted in runs", () => {
    const kernel = loaded();
    const advisory = parse(
      readFileSync(new URL("../../../advisories/CNID-2024-0001.yaml", import.meta.url), "utf8"),
    ) as Advisory;
    const buf = Buffer.from(
      `${logLines(2)
        .map((l) => l.text)
        .join("\n")}\n`,
      "latin1",
    );
    const needles = planNeedles(compileSignatures([advisory]), gramRarity(buf));
    const kinds = kernelKinds(kernel, buf, needles);
    assert.deepEqual(kinds, expectedKinds(buf, needles));
    assert.ok(kinds.includes(RUN_OTHER) && kinds.includes(RUN_FELIX));
  });

  test("hits from the kernel's candidates equal a search of the text, also when candidates overflow", () => {
    const kernel = loaded();
    const advisory = parse(
      readFileSync(new URL("../../../advisories/CNID-2024-0001.yaml", import.meta.url), "utf8"),
    ) as Advisory;
    const buf = Buffer.from(`${[...logLines(2), ...logLines(4)].map((l) => l.text).join("\n")}\n`, "latin1");
    const needles = planNeedles(compileSignatures([advisory]), gramRarity(buf));
    let found = 0;
    for (const candidateCap of [1, 7, undefined]) {
      assert.ok(kernel.prepare(buf, 0, buf.length, { needles, maxLine: MAX_LINE }));
      const got: number[] = [];
      const want: number[] = [];
      for (let pos = 0; pos < buf.length;) {
        const stop = kernel.next(pos, 50, candidateCap);
        assert.ok(stop > pos);
        for (let i = 0; i < kernel.count; i++) {
          const from = kernel.runStart(i);
          const to = i + 1 < kernel.count ? kernel.runStart(i + 1) : stop;
          kernel.hitsIn(buf, from, to, got);
          findHits(needles, buf, from, to, want);
          assert.deepEqual(got, want, `span ${String(from)}-${String(to)}, cap ${String(candidateCap)}`);
          found += got.length;
        }
        pos = stop;
      }
    }
    assert.ok(found > 0, "the storm must hold hits");
  });

  test("the literal finder agrees with String.includes on records, non-ASCII text and overlaps", () => {
    loaded();
    const rand = seededRandom(77);
    const literals = ["XDP", "failed to wipe the XDP state", "aaa", "aab", "é-free", " try=", "x"].filter(
      (l) => /^[\x20-\x7e]*$/.test(l),
    );
    const sample = Buffer.from(
      logLines(3)
        .map((l) => l.text)
        .join("\n"),
    );
    const find = literalFinder(literals, gramRarity(sample));
    assert.ok(find, "ASCII literals that fit the kernel get a finder");
    const pieces = [
      "aaab",
      "XD",
      "P",
      "failed to wipe the XDP state",
      " try=3",
      "\n",
      "größe ✓",
      "\uD800",
      "x",
    ];
    for (let round = 0; round < 200; round++) {
      const text = Array.from(
        { length: Math.floor(rand() * 30) },
        () => pieces[Math.floor(rand() * pieces.length)],
      ).join(rand() < 0.5 ? "" : " ");
      const state = new Uint8Array(literals.length);
      assert.ok(find(text, state));
      assert.deepEqual(
        [...state],
        literals.map((l): number => (text.includes(l) ? 1 : 2)),
        JSON.stringify(text),
      );
    }
    assert.equal(
      literalFinder(["größe"], gramRarity(sample)),
      undefined,
      "non-ASCII literals are one by one",
    );
  });

  test("stops when the run area is full and resumes where it stopped", () => {
    const kernel = loaded();
    const buf = shapedInput(7);
    const whole = kernelKinds(kernel, buf, []);
    for (const cap of [1, 2, 5])
      assert.deepEqual(kernelKinds(kernel, buf, [], cap), whole, `cap ${String(cap)}`);
  });

  test("needles share a bucket only when that costs least: same fingerprint together, else apart", () => {
    const distinct = ["XDP ", "ble ", "'cal", "will", "kern", "BPF ", "Oper", "vmli"].map(needle);
    assert.equal(new Set(assignBuckets(distinct)).size, 8);
    const twin = needle("XDP!");
    const buckets = assignBuckets([...distinct, twin]);
    assert.equal(buckets[8], buckets[0], "a needle with the same first three bytes joins its twin");
  });

  test("plans it cannot hold are refused (the JS path takes them)", () => {
    assert.equal(needleTables(Array.from({ length: 33 }, (_, i) => needle(`n${String(i)}`))), undefined);
    assert.equal(needleTables([needle("abcde")]), undefined);
    assert.ok(needleTables([needle("XDP ")]));
  });
});
