// Envelope invariance: every excerpt fixture, saved in every capture shape the reader knows (and in
// combinations: gzip + CRI, --prefix + --timestamps, CRLF + ANSI, UTF-16), gives the verdict, the
// per-signature counts and the first/last times of its plain form; a seeded fuzz inserts foreign
// lines (prose, prompts, fences) between and inside records; lookalikes stay not affected.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { loadAdvisories } from "../advisories/load.js";
import { diagnose } from "../analyze/diagnose.js";
import type { LogSourceResult } from "../model/logs.js";
import type { Snapshot } from "../model/snapshot.js";
import { compileSignatures, scanLogFile } from "./index.js";
import { seededRandom } from "../../scripts/fixtures/felix-log.js";

const DIR = fileURLToPath(new URL("../../../test/fixtures/excerpts/", import.meta.url));
const advisories = await loadAdvisories();
const advisory = advisories.find((a) => a.id === "CNID-2024-0001");
const set = compileSignatures(advisories);
const BASE = Date.UTC(2024, 0, 1, 12);
const POD = "calico-node-x7k2p";
const NODE = "worker-1";

interface Line {
  text: string;
  ms: number;
}

/**
 * The fixture as plain lines with a time each: its own, else the one before, else (before the
 * first stamped line: a capture cut mid-record) the first one, else BASE.
 */
async function plainLines(file: string): Promise<Line[]> {
  const raw = (await readFile(join(DIR, file), "utf8")).replace(/\n$/, "").split("\n");
  // A fixture saved with `kubectl logs --timestamps` is that shape already: its plain form drops them.
  const stamped = /^\d{4}-\d\d-\d\dT\S+Z /;
  const kubectl = raw.every((l) => l === "" || stamped.test(l));
  let last = BASE;
  const lines = raw.map((l) => {
    let text = l;
    let own: number | undefined;
    if (kubectl && stamped.test(l)) {
      const cut = l.indexOf(" ");
      own = Date.parse(l.slice(0, cut));
      text = l.slice(cut + 1);
    }
    const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:[.,](\d+))?/.exec(text);
    if (m) own ??= Date.parse(`${m[1]}T${m[2]}.${(m[3] ?? "0").slice(0, 3).padEnd(3, "0")}Z`);
    const known = own !== undefined && !Number.isNaN(own);
    if (known) last = own ?? last;
    return { text, ms: last, known };
  });
  const first = lines.find((l) => l.known)?.ms ?? BASE;
  let seen = false;
  return lines.map((l) => {
    seen ||= l.known;
    return { text: l.text, ms: seen ? l.ms : first };
  });
}

const iso = (ms: number): string => new Date(ms).toISOString();
const k8s = { pod_name: POD, container_name: "calico-node", host: NODE, namespace_name: "kube-system" };

type Wrap = (lines: Line[]) => Buffer;
const text = (lines: string[]): Buffer => Buffer.from(`${lines.join("\n")}\n`, "utf8");

/**
 * A log line as the runtime splits a long one (Docker json-file at 16 KiB, CRI at its buffer): the
 * pieces, every one but the last marked partial. Cut at a third and two thirds so every record of
 * the fixtures is split, headers included.
 */
function pieces(line: string): { text: string; last: boolean }[] {
  if (line.length < 3) return [{ text: line, last: true }];
  const a = Math.floor(line.length / 3);
  const b = Math.floor((2 * line.length) / 3);
  return [
    { text: line.slice(0, a), last: false },
    { text: line.slice(a, b), last: false },
    { text: line.slice(b), last: true },
  ];
}
const dockerSplit = (ls: Line[], layout: (log: string, time: string) => string): Buffer =>
  text(ls.flatMap((l) => pieces(l.text).map((p) => layout(p.last ? `${p.text}\n` : p.text, iso(l.ms)))));

const WRAPS: Record<string, Wrap> = {
  cri: (ls) => text(ls.map((l) => `${iso(l.ms)} stdout F ${l.text}`)),
  "docker-json": (ls) =>
    text(ls.map((l) => JSON.stringify({ log: `${l.text}\n`, stream: "stdout", time: iso(l.ms) }))),
  "docker-json spaced": (ls) =>
    text(
      ls.map((l) => `{"log": ${JSON.stringify(`${l.text}\n`)}, "stream": "stdout", "time": "${iso(l.ms)}"}`),
    ),
  "docker-json split": (ls) =>
    dockerSplit(ls, (log, time) => JSON.stringify({ log, stream: "stdout", time })),
  "docker-json spaced split": (ls) =>
    dockerSplit(ls, (log, time) => `{"log": ${JSON.stringify(log)}, "stream": "stdout", "time": "${time}"}`),
  // A shipper that strips every newline (in its own layout; Docker's exact one is Docker's): no
  // record marks a line's end, so none is a piece.
  "docker-json no newlines": (ls) =>
    text(ls.map((l) => JSON.stringify({ stream: "stdout", log: l.text, time: iso(l.ms) }))),
  "docker-json split+ansi": (ls) =>
    dockerSplit(ls, (log, time) => `\x1b[0m${JSON.stringify({ log, stream: "stdout", time })}`),
  "cri split": (ls) =>
    text(ls.flatMap((l) => pieces(l.text).map((p) => `${iso(l.ms)} stdout ${p.last ? "F" : "P"} ${p.text}`))),
  "cri split+ansi": (ls) =>
    text(
      ls.flatMap((l) =>
        pieces(l.text).map((p) => `\x1b[0m${iso(l.ms)} stdout ${p.last ? "F" : "P"} ${p.text}`),
      ),
    ),
  fluent: (ls) =>
    text(
      ls.map((l) =>
        JSON.stringify({ log: l.text, stream: "stdout", "@timestamp": iso(l.ms), kubernetes: k8s }),
      ),
    ),
  loki: (ls) =>
    text(
      ls.map((l) =>
        JSON.stringify({
          line: l.text,
          timestamp: iso(l.ms),
          labels: { pod: POD, container: "calico-node", node: NODE },
        }),
      ),
    ),
  journald: (ls) =>
    text(
      ls.map((l) =>
        JSON.stringify({
          __REALTIME_TIMESTAMP: String(l.ms * 1000),
          _HOSTNAME: NODE,
          CONTAINER_NAME: `k8s_calico-node_${POD}_kube-system_0f1e_0`,
          MESSAGE: l.text,
        }),
      ),
    ),
  elastic: (ls) =>
    text(
      ls.map((l) =>
        JSON.stringify({
          _index: "logs",
          _source: {
            "@timestamp": iso(l.ms),
            message: l.text,
            kubernetes: { pod: { name: POD }, node: { name: NODE } },
          },
        }),
      ),
    ),
  "kubectl-prefix": (ls) => text(ls.map((l) => `[pod/${POD}/calico-node] ${l.text}`)),
  stern: (ls) => text(ls.map((l) => `\x1b[32m${POD}\x1b[0m \x1b[34mcalico-node\x1b[0m ${l.text}`)),
  "kubectl-timestamps": (ls) => text(ls.map((l) => `${iso(l.ms)} ${l.text}`)),
  "prefix+timestamps": (ls) => text(ls.map((l) => `[pod/${POD}/calico-node] ${iso(l.ms)} ${l.text}`)),
  "markdown quote": (ls) => text(["Seen on our nodes:", "", ...ls.map((l) => `> ${l.text}`)]),
  "ticket paste": (ls) =>
    text([
      "Hi, calico-node keeps restarting, logs below.",
      "$ kubectl logs -n kube-system calico-node-x7k2p",
      "```",
      ...ls.map((l) => `    ${l.text}  `),
      "```",
    ]),
  "crlf+ansi": (ls) => Buffer.from(ls.map((l) => `\x1b[0m${l.text}\x1b[0m\r\n`).join(""), "utf8"),
  "utf8 bom": (ls) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text(ls.map((l) => l.text))]),
  utf16le: (ls) =>
    Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(ls.map((l) => `${l.text}\r\n`).join(""), "utf16le"),
    ]),
  "gzip+cri": (ls) => gzipSync(text(ls.map((l) => `${iso(l.ms)} stdout F ${l.text}`))),
};

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
          assert.equal(got.first, plain.first, `${label}: first`);
          assert.equal(got.last, plain.last, `${label}: last`);
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
        for (const shape of ["plain", "ticket paste", "kubectl-prefix", "fluent"]) {
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
        if (shape === "fluent" || shape === "journald") assert.equal(byPod(A)?.subject, `node-a/${A}`);
        for (const e of byPod(A)?.evidence ?? []) assert.ok(!e.nodes?.includes(B));
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  }
});
