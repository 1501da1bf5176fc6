// Every file-system call of apply and of rollback, not a sample: the run is frozen just before
// call N (what SIGKILL there leaves on disk) or an editor appends to cluster.yml just before it,
// and only what is on disk afterwards is judged. In-process (support/fs-tap.ts) so that visiting
// each of the ~70 calls costs milliseconds; the kill -9 probes in data-loss.test.ts check the
// same story with real processes at sampled calls.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { underTap } from "./support/fs-tap.js";
import { cnidoctorInProcess } from "./support/inproc.js";
import { REPO } from "./support/driver.js";

const ORIGINAL = await readFile(join(REPO, "examples/rke1-canal-affected/cluster.yml"));
const STEP = "rke1-pin-system-images";

interface Box {
  dir: string;
  file: string;
  state: string;
}

async function sandbox(): Promise<Box> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), "cnid-every-")));
  await mkdir(join(dir, "a"));
  const file = join(dir, "a", "cluster.yml");
  await writeFile(file, ORIGINAL);
  return { dir, file, state: join(dir, "state") };
}

const apply = (b: Box): Promise<{ code: number; stdout: string; stderr: string }> =>
  cnidoctorInProcess(["apply", "--rke-config", b.file, "--only", STEP, "--yes", "--state-dir", b.state]);
const rollback = (b: Box, id: string, force = false): ReturnType<typeof apply> =>
  cnidoctorInProcess(["rollback", id, "--yes", "--state-dir", b.state, ...(force ? ["--force"] : [])]);
const backupId = (stdout: string): string => /^backup: (\S+)$/m.exec(stdout)?.[1] ?? "";

/** Visible backups, newest first (a hidden `.ID.partial` is a backup that never came to be). */
async function backups(b: Box): Promise<string[]> {
  const names = await readdir(join(b.state, "backups")).catch(() => [] as string[]);
  return names
    .filter((n) => !n.startsWith("."))
    .sort()
    .reverse();
}

/** Rolls back everything that is there, newest first, and says whether the file is the original. */
async function rollBackAll(b: Box, at: string): Promise<void> {
  for (const id of await backups(b)) {
    const r = await rollback(b, id);
    assert.equal(r.code, 0, `${at}: rollback ${id}: ${r.stderr}\n${r.stdout}`);
  }
  assert.deepEqual(await readFile(b.file), ORIGINAL, `${at}: the file is not back to the original`);
}

/** The calls a fault-free run makes, and the bytes it leaves in cluster.yml. */
async function callsOf(
  run: (b: Box) => Promise<unknown>,
  prepare?: (b: Box) => Promise<void>,
): Promise<{ calls: string[]; after: Buffer }> {
  const b = await sandbox();
  await prepare?.(b);
  const r = await underTap(b.dir, { kind: "count" }, () => run(b));
  const after = await readFile(b.file);
  await rm(b.dir, { recursive: true, force: true });
  return { calls: r.calls, after };
}

describe("every fs call of apply and rollback", { timeout: 240_000 }, () => {
  test("kill before any call of apply: the file is whole, a rerun works, rollback ends at the original", async () => {
    const { calls, after } = await callsOf(apply);
    assert.notDeepEqual(after, ORIGINAL);
    assert.ok(calls.length > 30, `only ${calls.length} calls counted`);
    assert.ok(calls.some((c) => c.startsWith("rename ")) && calls.some((c) => c.startsWith("link ")));
    for (let n = 1; n <= calls.length; n++) {
      const at = `apply frozen at call ${n} (${calls[n - 1] ?? ""})`;
      const b = await sandbox();
      const r = await underTap(b.dir, { kind: "freeze", at: n }, () => apply(b));
      assert.ok(r.frozen, `${at}: not reached`);
      const now = await readFile(b.file);
      assert.ok(
        now.equals(ORIGINAL) || now.equals(after),
        `${at}: the file is neither the original nor apply's`,
      );
      await rollBackAll(b, at);
      // The killed run's lock and leftovers do not stop the next apply, nor its rollback (checked
      // wherever a lock file is in play, and at every fifth call: each rerun costs a plan).
      if (n % 5 !== 0 && !(calls[n - 1] ?? "").includes(".cnidoctor.lock")) {
        await rm(b.dir, { recursive: true, force: true });
        continue;
      }
      const again = await apply(b);
      assert.equal(again.code, 0, `${at}: apply after the kill: ${again.stderr}`);
      assert.notDeepEqual(await readFile(b.file), ORIGINAL);
      const back = await rollback(b, backupId(again.stdout));
      assert.equal(back.code, 0, `${at}: ${back.stderr}`);
      assert.deepEqual(await readFile(b.file), ORIGINAL, at);
      await rm(b.dir, { recursive: true, force: true });
    }
  });

  test("kill before any call of rollback: rolling back again ends at the original", async () => {
    let id = "";
    let applied = Buffer.alloc(0);
    const prepare = async (b: Box): Promise<void> => {
      const a = await apply(b);
      assert.equal(a.code, 0, a.stderr);
      id = backupId(a.stdout);
      applied = await readFile(b.file);
    };
    const { calls } = await callsOf((b) => rollback(b, id), prepare);
    assert.ok(calls.length > 15, `only ${calls.length} calls counted`);
    for (let n = 1; n <= calls.length; n++) {
      const at = `rollback frozen at call ${n} (${calls[n - 1] ?? ""})`;
      const b = await sandbox();
      await prepare(b);
      const r = await underTap(b.dir, { kind: "freeze", at: n }, () => rollback(b, id));
      assert.ok(r.frozen, `${at}: not reached`);
      const now = await readFile(b.file);
      assert.ok(
        now.equals(ORIGINAL) || now.equals(applied),
        `${at}: the file is neither the original nor apply's`,
      );
      await rollBackAll(b, at);
      await rm(b.dir, { recursive: true, force: true });
    }
  });

  test("an edit landing before any call of apply is kept, and rollback never drops it", async () => {
    const { calls } = await callsOf(apply);
    for (let n = 1; n <= calls.length; n++) {
      const at = `edit before apply call ${n} (${calls[n - 1] ?? ""})`;
      const mark = `# edited before call ${n}\n`;
      const b = await sandbox();
      const r = await underTap(b.dir, { kind: "edit", at: n, file: b.file, text: mark }, () => apply(b));
      const text = await readFile(b.file, "utf8");
      assert.ok(text.includes(mark), `${at}: the edit was lost (apply exit ${String(r.value?.code)})`);
      // A rollback without --force must not drop it either: it restores only over apply's own bytes.
      for (const id of await backups(b)) {
        const back = await rollback(b, id);
        assert.ok(back.code === 0 || back.code === 2, `${at}: rollback ${id}: ${back.stderr}`);
        assert.ok((await readFile(b.file, "utf8")).includes(mark), `${at}: rollback ${id} dropped the edit`);
      }
      await rm(b.dir, { recursive: true, force: true });
    }
  });
});
