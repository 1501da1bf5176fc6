// Envelope invariance: every excerpt fixture, saved in every capture shape the reader knows (and in
// combinations: gzip + CRI, --prefix + --timestamps, CRLF + ANSI, UTF-16), gives the verdict, the
// per-signature counts and the first/last times of its plain form; a seeded fuzz inserts foreign
// lines (prose, prompts, fences) between and inside records; lookalikes stay not affected.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "../advisories/load.js";
import { diagnose } from "../analyze/diagnose.js";
import type { LogSourceResult } from "../model/logs.js";
import type { Snapshot } from "../model/snapshot.js";
import { compileSignatures, scanLogFile } from "./index.js";
import { seededRandom } from "../../scripts/fixtures/felix-log.js";
import {
  iso,
  plainLines as linesOf,
  text,
  WHOLE_SECOND_SHAPES,
  WRAPS,
  type Line,
} from "../../scripts/fixtures/capture-shapes.js";

const DIR = fileURLToPath(new URL("../../../test/fixtures/excerpts/", import.meta.url));
const advisories = await loadAdvisories();
const advisory = advisories.find((a) => a.id === "CNID-2024-0001");
const set = compileSignatures(advisories);
const plainLines = (file: string): Promise<Line[]> => linesOf(DIR, file);

interface Outcome {
  status: string;
  counts: Record<string, number>;
  first?: string;
  last?: string;
}

function outcomeOf(result: LogSourceResult, name: string): Outcome {
  assert.ok(advisory);
  const snapshot: Snapshot = {
    target: { kind: "logs", name },
    collectedAt: "",
    nodes: [],
    installs: [],
    logs: [result],
    gaps: [],
  };
  const v = diagnose(snapshot, advisory).verdicts[0];
  assert.ok(v);
  const counts: Record<string, number> = {};
  for (const s of result.scan.signals) counts[s.signatureId] = s.count;
  const out: Outcome = { status: v.status, counts };
  if (result.scan.firstTimestamp !== undefined) out.first = result.scan.firstTimestamp;
  if (result.scan.lastTimestamp !== undefined) out.last = result.scan.lastTimestamp;
  return out;
}

/** An ISO time cut to its second (an envelope with whole seconds stands in for the line's own). */
function toSecond(t?: string): string | undefined {
  return t === undefined ? undefined : `${t.slice(0, 19)}Z`;
}

/** Foreign lines that start no record: what a ticket or a terminal puts around and inside a paste. */
const FOREIGN = [
  "",
  "```",
  "$ kubectl -n kube-system logs ds/calico-node | grep -i xdp",
  "root@worker-1:~# uptime",
  "see above, it repeats every few seconds",
  "-- snip --",
  "...",
];

const files = (await readdir(DIR)).filter((f) => f !== "README.md").sort();

describe("envelope invariance over the excerpt fixtures", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "cnidoctor-env-"));
  let n = 0;
  const scan = async (data: Buffer): Promise<LogSourceResult> => {
    const path = join(tmp, `capture-${n++}`);
    await writeFile(path, data);
    return scanLogFile(path, set);
  };
  test.after(() => rm(tmp, { recursive: true, force: true }));

  for (const file of files) {
    test(`${file}: same verdict, counts and times in every shape`, async () => {
      const lines = await plainLines(file);
      const plain = outcomeOf(await scan(text(lines.map((l) => l.text))), file);
      const syslog = file.endsWith(".syslog");
      for (const [shape, wrap] of Object.entries(WRAPS)) {
        const got = outcomeOf(await scan(wrap(lines)), file);
        const label = `${file} as ${shape}`;
        assert.equal(got.status, plain.status, label);
        assert.deepEqual(got.counts, plain.counts, label);
        // Envelope times stand in for missing ones; where the plain form has full times they agree.
        if (plain.first !== undefined && !syslog) {
          const at = WHOLE_SECOND_SHAPES.has(shape) ? toSecond : (t?: string): string | undefined => t;
          assert.equal(at(got.first), at(plain.first), `${label}: first`);
          assert.equal(at(got.last), at(plain.last), `${label}: last`);
        }
        if (file.startsWith("lookalike-")) assert.notEqual(got.status, "affected", label);
      }
    });

    test(`${file}: foreign lines between and inside records change nothing (seeded)`, async () => {
      const lines = await plainLines(file);
      const plain = outcomeOf(await scan(text(lines.map((l) => l.text))), file);
      for (let seed = 1; seed <= 6; seed++) {
        const random = seededRandom(seed * 7919 + file.length);
        const mixed: Line[] = [];
        for (const l of lines) {
          if (random() < 0.3)
            mixed.push({ text: FOREIGN[Math.floor(random() * FOREIGN.length)] ?? "", ms: l.ms });
          mixed.push(l);
        }
        for (const shape of ["plain", "ticket paste", "kubectl-prefix", "fluent", "csv reversed"]) {
          const wrap = WRAPS[shape];
          const data = wrap === undefined ? text(mixed.map((l) => l.text)) : wrap(mixed);
          const got = outcomeOf(await scan(data), file);
          assert.equal(got.status, plain.status, `${file} seed ${seed} ${shape}`);
          assert.deepEqual(got.counts, plain.counts, `${file} seed ${seed} ${shape}`);
        }
      }
    });
  }
});

describe("a shape that first appears after the planner's 64 KiB head", () => {
  // A ticket or a log file: 80 KiB of prose or of routine plain Felix lines, then the capture. The
  // head plans it plain; the capture's records must still be unwrapped (the file is read again,
  // shaped), on one thread or split across two, and give the verdict and counts of the same head
  // followed by the fixture's plain form.
  const HEAD_BYTES = 80 * 1024;
  const prose: string[] = [];
  for (let k = 0; prose.join("\n").length < HEAD_BYTES; k++)
    prose.push(
      k % 50 === 7
        ? "2024-01-01 11:00:00.000 [INFO][52] felix/summary.go 100: Summarising 3 dataplane reconciliation loops"
        : `Paragraph ${k}: we upgraded the cluster last week and since then the nodes are slow, see below.`,
    );
  const routine: string[] = [];
  for (let k = 0; routine.join("\n").length < HEAD_BYTES; k++)
    routine.push(
      `2024-01-01 10:${String(Math.floor(k / 60) % 60).padStart(2, "0")}:${String(k % 60).padStart(2, "0")}.000 [INFO][52] felix/summary.go 100: Summarising 3 dataplane reconciliation loops over 100ms: avg=5ms longest=10ms (resync-routes)`,
    );
  // Not after other text: gzip and UTF-16 are whole-file encodings; stern's bare `POD CONTAINER `
  // prefix is only trusted when the head shows it (it is prose-like).
  const late = Object.keys(WRAPS).filter((s) => !/gzip|utf16le|^stern$/.test(s));
  const threaded = new Set([
    "single-line-shipper-v3.28.0.log",
    "starts-mid-record-v3.27.3.log",
    "lookalike-eperm-old-felix.log",
  ]);
  for (const file of files)
    test(`${file}: after 80 KiB of prose or routine lines, same verdict and counts in every shape`, async () => {
      const lines = await plainLines(file);
      const tmp = await mkdtemp(join(tmpdir(), "cnidoctor-env-"));
      try {
        const path = join(tmp, "ticket.txt");
        const options = threaded.has(file) ? [{}, { minParallelBytes: 1, splitAt: 60 * 1024 }] : [{}];
        for (const [k, shape] of late.entries()) {
          const wrap = WRAPS[shape];
          assert.ok(wrap);
          const head = text(k % 2 === 0 ? prose : routine);
          await writeFile(path, Buffer.concat([head, text(lines.map((l) => l.text))]));
          const plain = outcomeOf(await scanLogFile(path, set), file);
          await writeFile(path, Buffer.concat([head, wrap(lines)]));
          for (const option of options) {
            const result = await scanLogFile(path, set, option);
            const got = outcomeOf(result, file);
            const label = `${file} as ${shape} after ${k % 2 === 0 ? "prose" : "routine lines"} ${JSON.stringify(option)}`;
            assert.equal(got.status, plain.status, label);
            assert.deepEqual(got.counts, plain.counts, label);
            assert.equal(result.scan.shapedLines, undefined, "internal field not reported");
            if (file.startsWith("lookalike-")) assert.notEqual(got.status, "affected", label);
          }
        }
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
});

describe("lines split by the runtime", () => {
  // A Felix record over 16 KiB (a long error value): Docker json-file writes it as 16 KiB records,
  // all but the last without "\n". Its ` try=N` field sits in the last piece, its header in the first.
  const header =
    "2024-08-01 10:00:00.100 [WARNING][65] felix/int_dataplane.go 1747: failed to wipe the XDP state error=failed to load BPF program (/usr/lib/calico/bpf/filter.o): stat /sys/fs/bpf/calico/xdp/prefilter_v1_calico_tmp_A: no such file or directory";
  const long = `${header} ${"detail ".repeat(6000)}try=3`;
  const split = (line: string, at: number): string[] => {
    const out: string[] = [];
    for (let k = 0; k < line.length; k += at) out.push(line.slice(k, k + at));
    return out;
  };
  for (const [name, layout] of [
    [
      "Docker's exact layout",
      (log: string) => JSON.stringify({ log, stream: "stdout", time: "2024-08-01T10:00:00.1Z" }),
    ],
    [
      "spaced layout",
      (log: string) =>
        `{"log": ${JSON.stringify(log)}, "stream": "stdout", "time": "2024-08-01T10:00:00.1Z"}`,
    ],
  ] as const)
    test(`${name}: a 42 KB line in 16 KiB records is one record again`, async () => {
      const pieces = split(long, 16 * 1024);
      assert.ok(pieces.length >= 3);
      const records = pieces.map((p, k) => layout(k === pieces.length - 1 ? `${p}\n` : p));
      const tmp = await mkdtemp(join(tmpdir(), "cnidoctor-env-"));
      try {
        const path = join(tmp, "split.log");
        await writeFile(path, text(['{"log": "start\\n", "stream": "stdout"}', ...records]));
        const result = await scanLogFile(path, set);
        const count = (id: string) => result.scan.signals.find((x) => x.signatureId === id)?.count ?? 0;
        assert.equal(count("xdp-wipe-retries"), 1, "header and try=N in one record");
        assert.equal(count("xdp-filter-load-failure"), 1);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
});

describe("bad input", () => {
  test("a CSV export whose last quote never closes: one line, a partial read, the rows before count", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "cnidoctor-env-"));
    try {
      const lines = await plainLines("loop-no-libbpf-v3.27.3.log");
      const csv = WRAPS.csv;
      assert.ok(csv);
      const whole = join(tmp, "whole.csv");
      await writeFile(whole, csv(lines));
      const good = outcomeOf(await scanLogFile(whole, set), "whole");
      const path = join(tmp, "cut.csv");
      const cut =
        '"Jul 10, 2024 @ 08:00:09.000",worker-1,calico-node-x7k2p,calico-node,"never closed\nmore\n';
      await writeFile(path, Buffer.concat([csv(lines), Buffer.from(cut)]));
      const result = await scanLogFile(path, set);
      assert.equal(result.status, "partial");
      assert.equal(
        result.problem,
        `${path}: CSV ends inside a quoted field (its last 2 lines were read as plain lines)`,
      );
      assert.deepEqual(outcomeOf(result, "cut").counts, good.counts);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  test("a binary file starting with FF FE is not read as UTF-16", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "cnidoctor-env-"));
    try {
      const random = seededRandom(42);
      const bytes = Buffer.alloc(4096, 0);
      for (let i = 2; i < bytes.length; i++) bytes[i] = random() < 0.5 ? 0 : Math.floor(random() * 256);
      bytes[0] = 0xff;
      bytes[1] = 0xfe;
      const path = join(tmp, "blob.bin");
      await writeFile(path, bytes);
      const result = await scanLogFile(path, set);
      assert.equal(result.status, "unreadable");
      assert.equal(result.problem, `${path}: binary data, not a text log`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe("multi-pod captures: records per pod, verdicts per pod", () => {
  const A = "calico-node-aaaaa";
  const B = "calico-node-bbbbb";
  const shapes: Record<string, (pod: string, node: string, l: Line) => string> = {
    "kubectl-prefix": (pod, _node, l) => `[pod/${pod}/calico-node] ${l.text}`,
    "prefix+timestamps": (pod, _node, l) => `[pod/${pod}/calico-node] ${iso(l.ms)} ${l.text}`,
    stern: (pod, _node, l) => `\x1b[36m${pod}\x1b[0m \x1b[33mcalico-node\x1b[0m ${l.text}`,
    fluent: (pod, node, l) =>
      JSON.stringify({
        log: l.text,
        time: iso(l.ms),
        kubernetes: { pod_name: pod, container_name: "calico-node", host: node },
      }),
    journald: (pod, node, l) =>
      JSON.stringify({
        MESSAGE: l.text,
        _HOSTNAME: node,
        CONTAINER_NAME: `k8s_calico-node_${pod}_kube-system_1_0`,
      }),
    logcli: (pod, node, l) => `${iso(l.ms).slice(0, 19)}Z {node="${node}", pod="${pod}"} ${l.text.trim()}`,
  };
  for (const [shape, wrap] of Object.entries(shapes)) {
    test(`${shape}: interleaved affected and lookalike pods are judged apart`, async () => {
      assert.ok(advisory);
      const affected = await plainLines("starts-mid-record-v3.27.3.log");
      const healthy = await plainLines("lookalike-eperm-old-felix.log");
      const out: string[] = [];
      for (let i = 0; i < Math.max(affected.length, healthy.length); i++) {
        const a = affected[i];
        const b = healthy[i];
        if (a) out.push(wrap(A, "node-a", a));
        if (b) out.push(wrap(B, "node-b", b));
      }
      const tmp = await mkdtemp(join(tmpdir(), "cnidoctor-env-"));
      try {
        const path = join(tmp, "pods.log");
        await writeFile(path, text(out));
        const result = await scanLogFile(path, set);
        const snapshot: Snapshot = {
          target: { kind: "logs", name: path },
          collectedAt: "",
          nodes: [],
          installs: [],
          logs: [result],
          gaps: [],
        };
        const verdicts = diagnose(snapshot, advisory).verdicts;
        const byPod = (pod: string) => verdicts.find((v) => v.subject.includes(pod));
        assert.equal(byPod(A)?.status, "affected", JSON.stringify(verdicts.map((v) => v.subject)));
        assert.notEqual(byPod(B)?.status, "affected");
        // The node is named when the capture names it.
        if (shape === "fluent" || shape === "journald" || shape === "logcli")
          assert.equal(byPod(A)?.subject, `node-a/${A}`);
        for (const e of byPod(A)?.evidence ?? []) assert.ok(!e.nodes?.includes(B));
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  }
});
