// Throughput of `cnidoctor logs` on a multi-GB calico-node log, as ratios to `grep -c -F` and to
// `cat > /dev/null` on the same file, measured in the same run (rounds interleave the three), plus
// cnidoctor's peak RSS (VmHWM of the child, polled from /proc). Usage:
//   npm run bench:logs -- --size 4G [--runs 3] [--file PATH] [--dir DIR] [--shape NAME]
//                         [--baseline OTHER/dist/src/cli/bin.js]
// The log is generated once (mostly routine Felix lines, one hour in six an XDP retry storm) into
// /dev/shm/cnidoctor-bench (or ~/.cache/cnidoctor/bench when /dev/shm is small) and reused.
// --shape saves the same lines as a capture shape (fluent, loki, journald, kubectl-prefix, stern,
// kubectl-timestamps, csv: a Kibana CSV report, oldest first, one row per line) until the file
// reaches --size: that measures the shaped path (normalise.ts).
// --baseline runs another build of the CLI in the same rounds (an A/B on a noisy machine).

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync, statfsSync } from "node:fs";
import { createInterface } from "node:readline";
import { mkdir, rename } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { felixLog } from "../fixtures/felix-log.js";

const LITERAL = "failed to wipe the XDP state";

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)B?$/i.exec(text.trim());
  if (!m) throw new Error(`--size: expected e.g. 4G, 500M (got '${text}')`);
  const power = ["", "K", "M", "G", "T"].indexOf((m[2] ?? "").toUpperCase());
  return Math.round(Number(m[1]) * 1024 ** power);
}

interface Args {
  size: number;
  runs: number;
  file: string | undefined;
  dir: string | undefined;
  shape: string | undefined;
  baseline: string | undefined;
}

function args(): Args {
  const out: Args = {
    size: 4 * 1024 ** 3,
    runs: 3,
    file: undefined,
    dir: undefined,
    shape: undefined,
    baseline: undefined,
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1] ?? "";
    if (argv[i] === "--size") out.size = parseSize(value);
    else if (argv[i] === "--runs") out.runs = Math.max(1, Number(value));
    else if (argv[i] === "--file") out.file = value;
    else if (argv[i] === "--dir") out.dir = value;
    else if (argv[i] === "--shape") out.shape = value;
    else if (argv[i] === "--baseline") out.baseline = value;
    else continue;
    i++;
  }
  return out;
}

function benchDir(size: number, given: string | undefined): string {
  if (given !== undefined) return given;
  try {
    const fs = statfsSync("/dev/shm");
    if (fs.bavail * fs.bsize > size * 1.5 + 2 * 1024 ** 3) return "/dev/shm/cnidoctor-bench";
  } catch {
    // no /dev/shm: use the cache directory
  }
  return join(homedir(), ".cache", "cnidoctor", "bench");
}

/** Writes `size` bytes of generated log: routine Felix lines, every sixth hour a retry storm. */
async function generate(path: string, size: number): Promise<void> {
  const tmp = `${path}.partial`;
  const out = createWriteStream(tmp, { highWaterMark: 4 << 20 });
  let written = 0;
  for (let hour = 0; written < size; hour++) {
    const storm = hour % 6 === 5;
    const lines: string[] = [];
    for (const line of felixLog({
      calicoVersion: "v3.28.0",
      kind: storm ? "storm" : "quiet",
      start: new Date(Date.UTC(2024, 4, 26) + hour * 3_600_000),
      durationSeconds: 3600,
      quietIntervalSeconds: 0.05,
      stormIntervalSeconds: 30,
      seed: hour + 1,
    })) {
      lines.push(line.text);
    }
    let chunk = `${lines.join("\n")}\n`;
    if (written + chunk.length > size) chunk = chunk.slice(0, chunk.lastIndexOf("\n", size - written) + 1);
    if (chunk.length === 0) break;
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, "drain");
    if (hour % 20 === 0) process.stderr.write(`\rgenerating ${path}: ${(written / 1e9).toFixed(2)} GB`);
  }
  out.end();
  await once(out, "close");
  await rename(tmp, path);
  process.stderr.write("\n");
}

const POD = "calico-node-x7k2p";
const k8s = { pod_name: POD, container_name: "calico-node", host: "worker-1", namespace_name: "kube-system" };

/** One plain line as the shape saves it (its time: its own Felix stamp). */
const SHAPES: Record<string, (line: string) => string> = {
  fluent: (l) => JSON.stringify({ log: l, stream: "stdout", "@timestamp": isoOf(l), kubernetes: k8s }),
  loki: (l) =>
    JSON.stringify({ line: l, timestamp: isoOf(l), labels: { pod: POD, container: "calico-node" } }),
  journald: (l) =>
    JSON.stringify({
      __REALTIME_TIMESTAMP: String(Date.parse(isoOf(l)) * 1000),
      _HOSTNAME: "worker-1",
      CONTAINER_NAME: `k8s_calico-node_${POD}_kube-system_1_0`,
      MESSAGE: l,
    }),
  "kubectl-prefix": (l) => `[pod/${POD}/calico-node] ${l}`,
  stern: (l) => `\x1b[32m${POD}\x1b[0m \x1b[34mcalico-node\x1b[0m ${l}`,
  "kubectl-timestamps": (l) => `${isoOf(l)} ${l}`,
  csv: (l) => `${csvField(kibanaTime(isoOf(l)))},worker-1,${POD},calico-node,${csvField(l)}`,
};

/** Lines a shape's file starts with (a CSV export's header row). */
const HEADERS: Record<string, string> = {
  csv: '"@timestamp",kubernetes.node.name,kubernetes.pod.name,kubernetes.container.name,message',
};

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Kibana's display time, as its CSV reports write it: `May 26, 2024 @ 00:00:00.050`. */
function kibanaTime(iso: string): string {
  const month = MONTHS[Number(iso.slice(5, 7)) - 1] ?? "Jan";
  return `${month} ${Number(iso.slice(8, 10))}, ${iso.slice(0, 4)} @ ${iso.slice(11, 23)}`;
}

/** An RFC 4180 field: quoted when it holds a comma, a quote or a line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

let lastIso = "2024-05-26T00:00:00.000Z";
function isoOf(line: string): string {
  if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/.test(line)) {
    lastIso = `${line.slice(0, 10)}T${line.slice(11, 23)}Z`;
  }
  return lastIso;
}

/** Writes `size` bytes of `from`'s lines in `shape` (the plain file is read again when short). */
async function reshape(from: string, path: string, shape: string, size: number): Promise<void> {
  const wrap = SHAPES[shape];
  if (wrap === undefined) throw new Error(`--shape: one of ${Object.keys(SHAPES).join(", ")}`);
  const tmp = `${path}.partial`;
  const out = createWriteStream(tmp, { highWaterMark: 4 << 20 });
  let written = 0;
  const header = HEADERS[shape];
  if (header !== undefined) {
    out.write(`${header}\n`);
    written += header.length + 1;
  }
  while (written < size) {
    const lines = createInterface({ input: createReadStream(from, { highWaterMark: 4 << 20 }) });
    let batch: string[] = [];
    for await (const line of lines) {
      batch.push(wrap(line));
      if (batch.length < 4096) continue;
      const chunk = `${batch.join("\n")}\n`;
      batch = [];
      written += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, "drain");
      if (written >= size) break;
    }
    lines.close();
  }
  out.end();
  await once(out, "close");
  await rename(tmp, path);
}

interface Run {
  seconds: number;
  peakKiB: number;
  code: number | null;
}

function peakOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function timed(command: string, argv: string[], stdoutTo: "ignore" | "pipe" = "ignore"): Promise<Run> {
  const start = process.hrtime.bigint();
  const child = spawn(command, argv, { stdio: ["ignore", stdoutTo, "inherit"] });
  let peakKiB = 0;
  const timer = setInterval(() => {
    peakKiB = Math.max(peakKiB, peakOf(child.pid));
  }, 20);
  child.stdout?.resume();
  const [code] = (await once(child, "exit")) as [number | null];
  clearInterval(timer);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, peakKiB, code };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const opts = args();
  let file = opts.file;
  if (file === undefined) {
    const dir = benchDir(opts.size, opts.dir);
    await mkdir(dir, { recursive: true });
    file = join(dir, `felix-${opts.size}.log`);
    if (!existsSync(file)) await generate(file, opts.size);
    if (opts.shape !== undefined) {
      const shaped = join(dir, `felix-${opts.size}.${opts.shape}.log`);
      if (!existsSync(shaped)) await reshape(file, shaped, opts.shape, opts.size);
      file = shaped;
    }
  }
  const bytes = statSync(file).size;
  const cli = join(import.meta.dirname, "..", "..", "src", "cli", "bin.js");
  const rows: { grep: number; cat: number; cnidoctor: number; peak: number; base?: Run }[] = [];
  await timed("cat", [file]); // warm the page cache
  for (let round = 1; round <= opts.runs; round++) {
    // grep stops at the first match when its output is /dev/null: give it a pipe.
    const grep = await timed("grep", ["-c", "-F", LITERAL, file], "pipe");
    const cat = await timed("sh", ["-c", 'cat "$1" > /dev/null', "cat", file]);
    const ours = await timed(process.execPath, [cli, "logs", file, "-o", "json"], "pipe");
    if (ours.code !== 0 && ours.code !== 3 && ours.code !== 4)
      throw new Error(`cnidoctor exited ${ours.code}`);
    const base =
      opts.baseline === undefined
        ? undefined
        : await timed(process.execPath, [opts.baseline, "logs", file, "-o", "json"], "pipe");
    const row: (typeof rows)[number] = {
      grep: grep.seconds,
      cat: cat.seconds,
      cnidoctor: ours.seconds,
      peak: ours.peakKiB,
    };
    if (base !== undefined) row.base = base;
    rows.push(row);
    console.log(
      `round ${round}: grep ${grep.seconds.toFixed(2)}s  cat ${cat.seconds.toFixed(2)}s  cnidoctor ${ours.seconds.toFixed(2)}s` +
        `  (${(grep.seconds / ours.seconds).toFixed(2)}× grep, ${(cat.seconds / ours.seconds).toFixed(2)}× cat, peak RSS ${(ours.peakKiB / 1024).toFixed(0)} MiB)` +
        (base === undefined
          ? ""
          : `  baseline ${base.seconds.toFixed(2)}s (${(grep.seconds / base.seconds).toFixed(2)}× grep, peak RSS ${(base.peakKiB / 1024).toFixed(0)} MiB)`),
    );
  }
  const mb = (s: number): string => `${(bytes / s / 1e6).toFixed(0)} MB/s`;
  const g = median(rows.map((r) => r.grep));
  const c = median(rows.map((r) => r.cat));
  const o = median(rows.map((r) => r.cnidoctor));
  console.log(`file ${file}: ${(bytes / 1e9).toFixed(2)} GB, medians of ${rows.length} rounds`);
  console.log(`  grep -c -F '${LITERAL}': ${g.toFixed(2)}s (${mb(g)})`);
  console.log(`  cat > /dev/null:        ${c.toFixed(2)}s (${mb(c)})`);
  console.log(`  cnidoctor logs -o json: ${o.toFixed(2)}s (${mb(o)})`);
  console.log(`  ratio to grep: ${(g / o).toFixed(2)}×   ratio to cat: ${(c / o).toFixed(2)}×`);
  console.log(`  cnidoctor peak RSS (VmHWM): ${(median(rows.map((r) => r.peak)) / 1024).toFixed(0)} MiB`);
  const bases = rows.flatMap((r) => (r.base === undefined ? [] : [r.base]));
  if (bases.length > 0) {
    const b = median(bases.map((r) => r.seconds));
    console.log(
      `  baseline ${opts.baseline ?? ""}: ${b.toFixed(2)}s (${mb(b)}), ratio to grep ${(g / b).toFixed(2)}×`,
    );
    console.log(
      `  baseline peak RSS (VmHWM): ${(median(bases.map((r) => r.peakKiB)) / 1024).toFixed(0)} MiB`,
    );
  }
}

await main();
