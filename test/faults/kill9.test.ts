// The probes that need real processes: a rollback run from another directory, applies racing each
// other, and SIGKILL just before the Nth file-system call of apply, rollback and collect (the
// --import hook in support/fs-fault.ts). Kill points are sampled (each costs a process start-up);
// every-call.test.ts visits every call in process. What the kill left is then checked, and rolled
// back or re-collected in process.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callLog, cnidoctor, inBatches, sweepPoints } from "./support/driver.js";
import { startFakeApiserver } from "./support/fake-apiserver.js";
import { cnidoctorInProcess as cli } from "./support/inproc.js";
import {
  applyArgs,
  backupId,
  backups,
  ORIGINAL,
  rollbackArgs,
  sandbox,
  type Box,
} from "./support/sandbox.js";

// collect against the stub API server alone took ~11 s on this loaded two-core machine
const COLLECT_MS = 60_000;
const PROBE_MS = 90_000; // hard deadline per probe; children past it are SIGKILLed by the driver

/** Rolls back every backup, newest first, in process; the file must end at the original. */
async function rollBackAll(b: Box, at: string): Promise<void> {
  for (const id of await backups(b)) {
    const r = await cli(rollbackArgs(b, id));
    assert.equal(r.code, 0, `${at}: rollback ${id}: ${r.stderr}`);
  }
  assert.deepEqual(await readFile(b.file), ORIGINAL, at);
}

describe("data loss with real processes", { timeout: 420_000 }, () => {
  test(
    "rollback from another directory restores the file apply changed, not ./cluster.yml",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      const applied = await cnidoctor(applyArgs(b, "cluster.yml"), { cwd: join(b.dir, "a") });
      assert.equal(applied.code, 0, applied.stderr);
      assert.notDeepEqual(await readFile(b.file), ORIGINAL);
      await writeFile(join(b.dir, "b", "cluster.yml"), "unrelated: true\n");
      const r = await cnidoctor(rollbackArgs(b, backupId(applied.stdout)), { cwd: join(b.dir, "b") });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(join(b.dir, "b", "cluster.yml"), "utf8"), "unrelated: true\n");
      assert.deepEqual(await readFile(b.file), ORIGINAL);
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test(
    "three applies at once: exactly one changes the file, every backup holds the original",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      const runs = await Promise.all([0, 1, 2].map(() => cnidoctor(applyArgs(b), { cwd: b.dir })));
      const changed = runs.filter((r) => r.code === 0 && backupId(r.stdout) !== "");
      assert.equal(
        changed.length,
        1,
        runs.map((r) => `${String(r.code)}: ${r.stdout}${r.stderr}`).join("\n"),
      );
      // The others stopped on the lock (exit 2) or found the change already made (exit 0, no backup).
      for (const r of runs)
        assert.ok(r.code === 0 || (r.code === 2 && /locked by cnidoctor/.test(r.stderr)), r.stderr);
      for (const id of await backups(b)) {
        const blob = await readFile(join(b.state, "backups", id, "blobs", "rke1-pin-system-images.orig"));
        assert.deepEqual(blob, ORIGINAL, `backup ${id} holds edited bytes`);
      }
      await rollBackAll(b, "after the race");
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  for (const phase of ["apply", "rollback"] as const)
    test(
      `kill -9 at sampled fs calls of ${phase}: the file is whole and rollback ends at the original`,
      { timeout: PROBE_MS },
      async () => {
        // Rollback's kill runs need an applied backup: made in process, it costs no start-up.
        const prepare = async (b: Box): Promise<string[]> => {
          if (phase === "apply") return applyArgs(b);
          const a = await cli(applyArgs(b));
          assert.equal(a.code, 0, a.stderr);
          return rollbackArgs(b, backupId(a.stdout));
        };
        const b0 = await sandbox();
        const log = join(b0.dir, "calls.log");
        const argv = await prepare(b0);
        // A killed run leaves the file as it found it or as it would have left it, nothing else.
        const whole = [await readFile(b0.file)];
        const counted = await cnidoctor(argv, { cwd: b0.dir, fault: { scope: b0.dir, log } });
        assert.equal(counted.code, 0, counted.stderr);
        whole.push(await readFile(b0.file));
        const calls = await callLog(log);
        const points = sweepPoints(calls, 3).filter((n) => n <= calls.length);
        assert.ok(
          points.some((n) => /^rename .*cnidoctor-tmp/.test(calls[n - 1] ?? "")),
          "the file's own rename is a kill point",
        );
        await inBatches(points, 2, async (n) => {
          const at = `${phase} killed at call ${n} (${calls[n - 1] ?? ""})`;
          const b = await sandbox();
          const run = await cnidoctor(await prepare(b), { cwd: b.dir, fault: { scope: b.dir, at: n } });
          assert.equal(run.signal, "SIGKILL", `${at}: not reached: ${run.stderr}`);
          const now = await readFile(b.file);
          assert.ok(
            whole.some((w) => now.equals(w)),
            `${at}: neither what the run found nor what it would have left`,
          );
          await rollBackAll(b, at);
          await rm(b.dir, { recursive: true, force: true });
        });
        await rm(b0.dir, { recursive: true, force: true });
      },
    );

  test(
    "kill -9 at sampled fs calls of collect --force: the old bundle or the new one, never none",
    { timeout: PROBE_MS * 2 },
    async () => {
      const root = await mkdtemp(join(tmpdir(), "cnid-faults-collect-"));
      const api = await startFakeApiserver(join(root, "kubeconfig"));
      try {
        const seed = async (d: string): Promise<string> => {
          const out = join(d, "bundle");
          await mkdir(out, { recursive: true });
          await writeFile(join(out, "cnidoctor-collect.json"), "{}\n");
          await writeFile(join(out, "old.txt"), "old bundle\n");
          return out;
        };
        const args = (out: string): string[] => [
          "collect",
          "--output-dir",
          out,
          "--force",
          "--kubeconfig",
          api.kubeconfig,
        ];
        const d0 = join(root, "count");
        const log = join(root, "calls.log");
        const first = await cnidoctor(args(await seed(d0)), {
          cwd: root,
          fault: { scope: d0, log },
          deadlineMs: COLLECT_MS,
        });
        assert.ok(first.code === 0 || first.code === 4, first.stderr);
        const calls = await callLog(log);
        // The two renames of the swap (old bundle aside, new one in).
        const renames = calls.flatMap((c, k) => (c.startsWith("rename ") ? [k + 1] : []));
        const points = renames.length > 0 ? renames.slice(0, 2) : sweepPoints(calls, 2);
        assert.ok(renames.length >= 2, `collect --force made ${renames.length} renames`);
        await inBatches(points, 2, async (n) => {
          const at = `collect killed at call ${n} (${calls[n - 1] ?? "end"})`;
          const d = join(root, `at-${n}`);
          const out = await seed(d);
          const run = await cnidoctor(args(out), {
            cwd: d,
            fault: { scope: d, at: n },
            deadlineMs: COLLECT_MS,
          });
          assert.equal(run.signal, "SIGKILL", `${at}: not reached`);
          const marker = await stat(join(out, "cnidoctor-collect.json")).catch(() => undefined);
          const aside = (await readdir(d)).filter((x) => /\.cnidoctor-old(-|$)/.test(x));
          assert.ok(marker !== undefined || aside.length === 1, `${at}: no bundle left`);
          // The next run puts things right and replaces the old bundle cleanly.
          const again = await cli(args(out));
          assert.ok(again.code === 0 || again.code === 4, `${at}: rerun: ${again.stderr}`);
          // What the killed run left is cleared by the rerun, which says so.
          if (aside.length > 0) assert.match(again.stderr, /cleanup: (removed|put back) /, at);
          assert.ok((await stat(join(out, "cnidoctor-collect.json"))).isFile());
          await assert.rejects(stat(join(out, "old.txt")));
          assert.deepEqual(
            (await readdir(d)).filter((x) => x.startsWith(".")),
            [],
            `${at}: leftovers`,
          );
        });
      } finally {
        await api.close();
        await rm(root, { recursive: true, force: true });
      }
    },
  );
});
