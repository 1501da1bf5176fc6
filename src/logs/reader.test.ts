import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { gzipSync } from "node:zlib";
import type { LogScan, LogSource } from "../model/logs.js";
import { hostChurnSyslog, toCri } from "../../scripts/fixtures/felix-log.js";
import { ADVISORY, asText, chunked, cyclesIn, felixLines } from "../../test/fixtures/logs/incident.js";
import { compileSignatures, LogScanner, scanLogFile, scanLogStream } from "./index.js";
import { openProblem } from "./reader.js";

const SET = compileSignatures([ADVISORY]);
const STDIN: LogSource = { kind: "file", path: "-" };
const STORM = felixLines({ kind: "storm", durationSeconds: 100 });
const STORM_TEXT = asText(STORM.map((l) => l.text));
const N = cyclesIn(STORM);

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnidoctor-logs-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function counts(scan: LogScan): Record<string, number> {
  return Object.fromEntries(scan.signals.map((s) => [s.signatureId, s.count]));
}

async function file(name: string, data: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

describe("scanLogFile", () => {
  test("a plain file: all read, bytes and lines counted, same result as pushing lines", async () => {
    const path = await file("felix.log", STORM_TEXT);
    const result = await scanLogFile(path, SET);
    assert.equal(result.status, "read");
    assert.equal(result.problem, undefined);
    assert.deepEqual(result.source, { kind: "file", path });
    assert.equal(result.scan.bytes, Buffer.byteLength(STORM_TEXT));
    const scanner = new LogScanner(SET);
    for (const l of STORM) scanner.pushLine(l.text);
    assert.deepEqual(result.scan, scanner.finish());
    assert.equal(counts(result.scan)["xdp-wipe-btf"], 10 * N);
  });

  test("gzip is recognised by magic bytes, whatever the name", async () => {
    const gz = gzipSync(STORM_TEXT);
    for (const name of ["felix.log.gz", "felix-rotated.log"]) {
      const result = await scanLogFile(await file(name, gz), SET);
      assert.equal(result.status, "read", name);
      assert.equal(counts(result.scan)["xdp-wipe-btf"], 10 * N, name);
      assert.equal(result.scan.bytes, Buffer.byteLength(STORM_TEXT));
    }
  });

  test("a truncated gzip stream keeps what was scanned: partial, problem names the file", async () => {
    const big = asText(felixLines({ kind: "storm", durationSeconds: 1800 }).map((l) => l.text));
    const gz = gzipSync(big);
    const path = await file("cut.log.gz", gz.subarray(0, Math.floor(gz.length * 0.6)));
    const result = await scanLogFile(path, SET);
    assert.equal(result.status, "partial");
    assert.match(
      result.problem ?? "",
      /^.*cut\.log\.gz: truncated gzip stream after \d+(\.\d)? (bytes|kB|MB)$/,
    );
    assert.ok(result.scan.lines > 0);
    assert.ok((counts(result.scan)["xdp-wipe-btf"] ?? 0) > 0);
  });

  test("a missing file, a directory", async () => {
    const missing = join(dir, "nope.log");
    assert.deepEqual(
      { ...(await scanLogFile(missing, SET)), scan: undefined },
      {
        source: { kind: "file", path: missing },
        status: "unreadable",
        problem: `${missing}: no such file`,
        scan: undefined,
      },
    );
    const sub = join(dir, "subdir");
    await mkdir(sub);
    const result = await scanLogFile(sub, SET);
    assert.equal(result.status, "unreadable");
    assert.equal(result.problem, `${sub}: is a directory`);
  });

  test("open errors become one line naming the file", async () => {
    // Tests run as root in CI, where chmod 000 cannot provoke EACCES; the mapping is tested directly.
    const err = (code: string) => Object.assign(new Error(code), { code });
    assert.equal(openProblem("/x/a.log", err("EACCES")), "/x/a.log: permission denied");
    assert.equal(openProblem("/x/a.log", err("EPERM")), "/x/a.log: permission denied");
    assert.equal(openProblem("/x/a.log", err("EMFILE")), "/x/a.log: cannot open (EMFILE)");
    const through = join(await file("plain.log", "x\n"), "child.log");
    const result = await scanLogFile(through, SET);
    assert.equal(result.status, "unreadable");
    assert.equal(result.problem, `${through}: no such file`);
  });

  test("binary data is unreadable", async () => {
    const bytes = Buffer.alloc(100_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const path = await file("x.bin", bytes);
    const result = await scanLogFile(path, SET);
    assert.equal(result.status, "unreadable");
    assert.equal(result.problem, `${path}: binary data, not a text log`);
    assert.equal(result.scan.lines, 0);
    const nul = await scanLogFile(
      await file("nul.log", Buffer.concat([Buffer.from("text\n"), Buffer.alloc(10)])),
      SET,
    );
    assert.equal(nul.status, "unreadable");
  });

  test("an empty file is read, zero lines, not an error", async () => {
    const result = await scanLogFile(await file("empty.log", ""), SET);
    assert.equal(result.status, "read");
    assert.equal(result.problem, undefined);
    assert.equal(result.scan.lines, 0);
    assert.equal(result.scan.records, 0);
    assert.deepEqual(result.scan.formats, []);
  });

  test("invalid UTF-8 is decoded with replacement and scanning continues", async () => {
    const head = STORM_TEXT.slice(0, 2000);
    const bad = Buffer.concat([
      Buffer.from(head),
      Buffer.from([0xff, 0xfe, 0xc3, 0x0a]),
      Buffer.from(STORM_TEXT),
    ]);
    const result = await scanLogFile(await file("bad-utf8.log", bad), SET);
    assert.equal(result.status, "read");
    assert.equal(counts(result.scan)["xdp-wipe-btf"], 10 * N);
  });

  test("syslog without a year takes it from the file's mtime", async () => {
    const lines = [
      ...hostChurnSyslog({
        host: "n1",
        start: new Date("2024-12-30T23:00:00Z"),
        cycles: 2,
        intervalSeconds: 60,
      }),
    ];
    const path = await file("syslog", asText(lines.map((l) => l.text)));
    await utimes(path, new Date("2025-01-02T00:00:00Z"), new Date("2025-01-02T00:00:00Z"));
    const result = await scanLogFile(path, SET);
    assert.deepEqual(result.scan.formats, ["syslog"]);
    assert.equal(result.scan.firstTimestamp, "2024-12-30T23:00:00.000Z");
    assert.equal(result.scan.lastTimestamp, "2024-12-30T23:01:00.000Z");
  });

  test("a 50 MB single line is truncated, scanning continues, memory stays bounded", async () => {
    const path = join(dir, "long.log");
    const out = createWriteStream(path);
    const block = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 50; i++) {
      if (!out.write(block)) await once(out, "drain");
    }
    out.end(`\n${STORM_TEXT}`);
    await once(out, "close");
    const rssBefore = process.memoryUsage().rss;
    const result = await scanLogFile(path, SET);
    const grew = process.memoryUsage().rss - rssBefore;
    assert.equal(result.status, "read");
    assert.match(result.problem ?? "", /long\.log: 1 line longer than 1\.0 MB truncated for matching/);
    assert.equal(result.scan.truncatedLines, 1);
    assert.equal(result.scan.lines, STORM.length + 1);
    assert.equal(result.scan.bytes, 50 * 1024 * 1024 + 1 + Buffer.byteLength(STORM_TEXT));
    assert.equal(counts(result.scan)["xdp-wipe-btf"], 10 * N);
    // Whole-line buffering would hold the 50 MB line twice (bytes + string). Streaming stays well
    // below that; the bound leaves room for GC slack on a busy machine (54 MB was seen under load).
    assert.ok(grew < 100 * 1024 * 1024, `RSS grew by ${grew} bytes`);
  });
});

describe("scanLogStream", () => {
  test("stdin ('-') as a stream, reported as stdin in problems", async () => {
    const result = await scanLogStream(chunked(Buffer.from(STORM_TEXT), 65536), STDIN, SET);
    assert.equal(result.status, "read");
    assert.deepEqual(result.source, STDIN);
    assert.equal(counts(result.scan)["xdp-wipe-btf"], 10 * N);
    const bin = await scanLogStream(chunked(Buffer.alloc(10), 4), STDIN, SET);
    assert.equal(bin.problem, "stdin: binary data, not a text log");
  });

  test("results do not depend on how the bytes are chunked", async () => {
    const text = asText(felixLines({ kind: "storm", durationSeconds: 40 }).map((l) => toCri(l)));
    const data = Buffer.from(text);
    const whole = await scanLogStream(chunked(data, data.length), STDIN, SET);
    for (const size of [1, 7, 333, 4096]) {
      const parts = await scanLogStream(chunked(data, size), STDIN, SET);
      assert.deepEqual(parts, whole, `chunk size ${size}`);
    }
  });

  test("lines longer than maxLineBytes inside one chunk are cut, the rest of the chunk is scanned", async () => {
    const text = `short\n${"b".repeat(5000)}\n${STORM_TEXT}`;
    const result = await scanLogStream(chunked(Buffer.from(text), 1 << 20), STDIN, SET, {
      maxLineBytes: 4096,
    });
    assert.equal(result.scan.truncatedLines, 1);
    assert.equal(result.scan.lines, STORM.length + 2);
    assert.equal(result.scan.bytes, Buffer.byteLength(text));
    assert.equal(counts(result.scan)["xdp-wipe-btf"], 10 * N);
  });

  test("a last line without newline counts; a pod source names itself in problems", async () => {
    const pod: LogSource = {
      kind: "pod",
      namespace: "kube-system",
      pod: "calico-node-x",
      container: "calico-node",
      origin: "api",
    };
    const ok = await scanLogStream(chunked(Buffer.from("a\nb"), 10), pod, SET);
    assert.equal(ok.scan.lines, 2);
    const gz = gzipSync(STORM_TEXT);
    const cut = await scanLogStream(chunked(gz.subarray(0, gz.length - 200), 1000), pod, SET);
    assert.equal(cut.status, "partial");
    assert.match(cut.problem ?? "", /^kube-system\/calico-node-x\/calico-node: truncated gzip stream after/);
  });

  test("a read error mid-stream keeps what was scanned", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(STORM_TEXT.slice(0, 100_000));
      await Promise.resolve();
      throw Object.assign(new Error("connection reset"), { code: "ECONNRESET" });
    }
    const result = await scanLogStream(failing(), STDIN, SET);
    assert.equal(result.status, "partial");
    assert.match(result.problem ?? "", /^stdin: read error after 100\.0 kB: ECONNRESET$/);
    assert.ok(result.scan.lines > 0);
  });
});
