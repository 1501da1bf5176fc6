import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Tailer, type LineSink } from "./tailer.js";
import { loadCheckpoint, saveCheckpoint, emptyCheckpoint } from "./checkpoint.js";

/** Records every line with the file it came from. */
class Recorder {
  readonly lines: string[] = [];
  flushes = 0;
  sinkFor = (path: string): LineSink => ({
    pushLine: (line: string) => this.lines.push(`${path.split("/").pop() ?? ""}:${line}`),
    flush: () => {
      this.flushes++;
    },
  });
  texts(): string[] {
    return this.lines.map((l) => l.slice(l.indexOf(":") + 1));
  }
}

function setup(): { root: string; dir: string; log: string } {
  const root = mkdtempSync(join(tmpdir(), "cnid-tail-"));
  const dir = join(root, "kube-system_calico-node-x1_0f0e", "calico-node");
  mkdirSync(dir, { recursive: true });
  return { root, dir, log: join(dir, "0.log") };
}

function lines(from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++)
    out += `2024-08-14T09:00:${String(i % 60).padStart(2, "0")}.000000000Z stdout F line ${i}\n`;
  return out;
}

function tailer(root: string, rec: Recorder, files = emptyCheckpoint("n").files, now = () => 0): Tailer {
  return new Tailer({ roots: [root], files, sinkFor: rec.sinkFor, rescanMs: 0, now });
}

const numbers = (rec: Recorder): number[] => rec.texts().map((t) => Number(/line (\d+)/.exec(t)?.[1]));
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

describe("Tailer", () => {
  test("reads complete lines once, holds back a line still being written", async () => {
    const { root, log } = setup();
    const rec = new Recorder();
    const t = tailer(root, rec);
    writeFileSync(log, `${lines(0, 3)}2024-08-14T09:00:03.000000000Z stdout F par`);
    const first = await t.poll();
    assert.deepEqual(numbers(rec), [0, 1, 2]);
    assert.equal(first.lines, 3);
    appendFileSync(log, "tial line 3\n");
    await t.poll();
    await t.poll();
    assert.deepEqual(numbers(rec), [0, 1, 2, 3]);
    assert.match(rec.texts()[3] ?? "", /partial line 3$/);
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("rename rotation: the old file is read to its end, the new one from its start", async () => {
    const { root, dir, log } = setup();
    const rec = new Recorder();
    const t = tailer(root, rec);
    writeFileSync(log, lines(0, 5));
    await t.poll();
    appendFileSync(log, lines(5, 8)); // written just before the rotation, not yet read
    renameSync(log, join(dir, "0.log.20240814-090100"));
    writeFileSync(log, lines(8, 10));
    await t.poll();
    // Each file has its own sink; across files the order does not matter.
    assert.deepEqual(
      numbers(rec).sort((a, b) => a - b),
      range(0, 10),
    );
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("rotation to a name outside the roots: the renamed file is drained before it is let go", async () => {
    const { root, log } = setup();
    const outside = mkdtempSync(join(tmpdir(), "cnid-away-"));
    const rec = new Recorder();
    const t = tailer(root, rec);
    writeFileSync(log, lines(0, 2));
    await t.poll();
    appendFileSync(log, lines(2, 4));
    renameSync(log, join(outside, "old.log"));
    await t.poll();
    assert.deepEqual(numbers(rec), range(0, 4));
    assert.equal(t.filesTracked, 0);
    await t.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true });
  });

  test("copytruncate: a shrunken file is read again from the start", async () => {
    const { root, log } = setup();
    const rec = new Recorder();
    const t = tailer(root, rec);
    writeFileSync(log, lines(0, 6));
    await t.poll();
    truncateSync(log, 0);
    appendFileSync(log, lines(6, 8));
    await t.poll();
    assert.deepEqual(numbers(rec), range(0, 8));
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("copytruncate refilled past the old offset between two polls is caught by the first bytes", async () => {
    const { root, log } = setup();
    const rec = new Recorder();
    const t = tailer(root, rec);
    writeFileSync(log, lines(0, 4));
    await t.poll();
    truncateSync(log, 0);
    appendFileSync(log, lines(100, 110)); // longer than before: size alone would not tell
    await t.poll();
    assert.deepEqual(numbers(rec), [...range(0, 4), ...range(100, 110)]);
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("kubelet compresses a rotation: the .gz adds only what was not read of the original", async () => {
    const { root, dir, log } = setup();
    const rec = new Recorder();
    const t = tailer(root, rec);
    writeFileSync(log, lines(0, 4));
    await t.poll();
    const rotated = join(dir, "0.log.20240814-090100");
    renameSync(log, rotated);
    writeFileSync(log, lines(10, 11));
    await t.poll(); // the rotated file is still followed under its new name
    appendFileSync(rotated, lines(4, 6)); // late writes kubelet's compression will include
    writeFileSync(`${rotated}.gz`, gzipSync(readFileSync(rotated)));
    rmSync(rotated);
    await t.poll();
    await t.poll();
    assert.deepEqual(
      numbers(rec).sort((a, b) => a - b),
      [...range(0, 6), 10],
    );
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("a .gz never seen as a plain file is read whole, once", async () => {
    const { root, dir } = setup();
    const rec = new Recorder();
    const t = tailer(root, rec);
    writeFileSync(join(dir, "0.log.20240813-000000.gz"), gzipSync(lines(0, 5)));
    await t.poll();
    await t.poll();
    assert.deepEqual(numbers(rec), range(0, 5));
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("a /var/log/containers symlink to the same file is not read twice", async () => {
    const { root, log } = setup();
    const links = join(root, "containers");
    mkdirSync(links);
    const { symlinkSync } = await import("node:fs");
    symlinkSync(log, join(links, `calico-node-x1_kube-system_calico-node-${"a".repeat(64)}.log`));
    const rec = new Recorder();
    const t = new Tailer({ roots: [root, links], files: [], sinkFor: rec.sinkFor, rescanMs: 0 });
    writeFileSync(log, lines(0, 3));
    await t.poll();
    assert.deepEqual(numbers(rec), range(0, 3));
    assert.ok(rec.lines.every((l) => l.startsWith("0.log:")));
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("an idle file gets its open record flushed once", async () => {
    const { root, log } = setup();
    const rec = new Recorder();
    let clock = 0;
    const t = tailer(root, rec, [], () => clock);
    writeFileSync(log, lines(0, 2));
    await t.poll();
    assert.equal(rec.flushes, 0);
    clock = 5_000;
    await t.poll();
    await t.poll();
    assert.equal(rec.flushes, 1);
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });
});

describe("checkpoint", () => {
  test("a restart resumes after the last line read: nothing twice, nothing lost", async () => {
    const { root, log } = setup();
    const state = mkdtempSync(join(tmpdir(), "cnid-state-"));
    const rec = new Recorder();
    const first = tailer(root, rec);
    writeFileSync(log, lines(0, 5));
    await first.poll();
    await first.close();
    const cp = emptyCheckpoint("n");
    cp.files = first.checkpointFiles();
    cp.advisories["CNID-2024-0001"] = { lastSymptomAt: 1234 };
    await saveCheckpoint(state, cp);
    appendFileSync(log, lines(5, 9)); // written while the agent was down

    const loaded = await loadCheckpoint(state, "n");
    assert.equal(loaded.problem, undefined);
    assert.equal(loaded.checkpoint.advisories["CNID-2024-0001"]?.lastSymptomAt, 1234);
    const second = tailer(root, rec, loaded.checkpoint.files);
    await second.poll();
    await second.close();
    assert.deepEqual(numbers(rec), range(0, 9));
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true });
  });

  test("rotated and compressed while the agent was down: the .gz skips what was read before", async () => {
    const { root, dir, log } = setup();
    const state = mkdtempSync(join(tmpdir(), "cnid-state-"));
    const rec = new Recorder();
    const first = tailer(root, rec);
    writeFileSync(log, lines(0, 20)); // more than the 256 bytes the identity check hashes
    await first.poll();
    await first.close();
    const cp = emptyCheckpoint("n");
    cp.files = first.checkpointFiles();
    await saveCheckpoint(state, cp);
    appendFileSync(log, lines(20, 22));
    const rotated = join(dir, "0.log.20240814-090100");
    renameSync(log, rotated);
    writeFileSync(`${rotated}.gz`, gzipSync(readFileSync(rotated)));
    rmSync(rotated);
    writeFileSync(log, lines(30, 31));

    const second = tailer(root, rec, (await loadCheckpoint(state, "n")).checkpoint.files);
    await second.poll();
    await second.close();
    assert.deepEqual(
      numbers(rec).sort((a, b) => a - b),
      [...range(0, 22), 30],
    );
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true });
  });

  test("a file reusing a recorded inode with other content is read from its start", async () => {
    const { root, log } = setup();
    const rec = new Recorder();
    const first = tailer(root, rec);
    writeFileSync(log, lines(0, 20));
    await first.poll();
    await first.close();
    const files = first.checkpointFiles();
    // Same inode, rewritten with different text of the same length or more.
    writeFileSync(log, lines(40, 70));
    const second = tailer(root, rec, files);
    await second.poll();
    await second.close();
    assert.deepEqual(numbers(rec), [...range(0, 20), ...range(40, 70)]);
    rmSync(root, { recursive: true, force: true });
  });

  test("a broken or foreign state file is reported and reading starts over", async () => {
    const state = mkdtempSync(join(tmpdir(), "cnid-state-"));
    writeFileSync(join(state, "agent-state.json"), "{not json");
    const broken = await loadCheckpoint(state, "n");
    assert.match(broken.problem ?? "", /not JSON/);
    assert.deepEqual(broken.checkpoint.files, []);
    await saveCheckpoint(state, emptyCheckpoint("other-node"));
    const foreign = await loadCheckpoint(state, "n");
    assert.match(foreign.problem ?? "", /other-node/);
    const missing = await loadCheckpoint(join(state, "nope"), "n");
    assert.equal(missing.problem, undefined);
    rmSync(state, { recursive: true });
  });
});
