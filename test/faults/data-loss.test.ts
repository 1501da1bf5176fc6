// Fault probes for the data-loss class of issue 15: each probe is one row, run as the user would run
// the CLI (a child process, a hard deadline), and judged only by what is on disk afterwards. The
// kill sweeps SIGKILL apply, rollback and collect just before their Nth file-system call.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  lstat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callLog, cnidoctor, inBatches, REPO, sweepPoints, type Run } from "./support/driver.js";
import { startFakeApiserver } from "./support/fake-apiserver.js";

const ORIGINAL = await readFile(join(REPO, "examples/rke1-canal-affected/cluster.yml"));
const PROBE_MS = 60_000; // hard deadline per probe (a sweep is one probe)

async function sandbox(): Promise<string> {
  // realpath'd tmpdir so paths printed by the CLI compare equal
  const dir = await mkdtemp(join(tmpdir(), "cnid-faults-"));
  await mkdir(join(dir, "a"));
  await mkdir(join(dir, "b"));
  await writeFile(join(dir, "a", "cluster.yml"), ORIGINAL);
  return dir;
}

const applyArgs = (dir: string): string[] => [
  "apply",
  "--rke-config",
  "cluster.yml",
  "--only",
  "rke1-pin-system-images",
  "--yes",
  "--state-dir",
  join(dir, "state"),
];

const backupId = (r: Run): string | undefined => /^backup: (\S+)$/m.exec(r.stdout)?.[1];

async function backups(dir: string): Promise<string[]> {
  // A hidden `.ID.partial` is a backup a kill stopped before it existed: nothing to roll back.
  const names = await readdir(join(dir, "state", "backups")).catch(() => [] as string[]);
  return names.filter((n) => !n.startsWith(".")).sort();
}

describe("data loss under faults", { timeout: 300_000 }, () => {
  test(
    "rollback from another directory restores the file apply changed, not ./cluster.yml",
    { timeout: PROBE_MS },
    async () => {
      const dir = await sandbox();
      const applied = await cnidoctor(applyArgs(dir), { cwd: join(dir, "a") });
      assert.equal(applied.code, 0, applied.stderr);
      const after = await readFile(join(dir, "a", "cluster.yml"));
      await writeFile(join(dir, "b", "cluster.yml"), "unrelated: true\n");
      const id = backupId(applied) ?? "";
      const r = await cnidoctor(["rollback", id, "--yes", "--state-dir", join(dir, "state")], {
        cwd: join(dir, "b"),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(join(dir, "b", "cluster.yml"), "utf8"), "unrelated: true\n");
      assert.deepEqual(await readFile(join(dir, "a", "cluster.yml")), ORIGINAL);
      assert.notDeepEqual(after, ORIGINAL);
      await rm(dir, { recursive: true, force: true });
    },
  );

  test(
    "a repointed link: rollback restores the file apply changed, never the link's new target",
    { timeout: PROBE_MS },
    async () => {
      const dir = await sandbox();
      const real = join(dir, "b", "real.yml");
      await writeFile(real, ORIGINAL);
      await rm(join(dir, "a", "cluster.yml"));
      await symlink(real, join(dir, "a", "cluster.yml"));
      const applied = await cnidoctor(applyArgs(dir), { cwd: join(dir, "a") });
      assert.equal(applied.code, 0, applied.stderr);
      assert.notDeepEqual(await readFile(real), ORIGINAL);
      // The link now names another file: the backup names real.yml (canonical), so that is restored.
      const other = join(dir, "b", "other.yml");
      await writeFile(other, "other: true\n");
      await rm(join(dir, "a", "cluster.yml"));
      await symlink(other, join(dir, "a", "cluster.yml"));
      const r = await cnidoctor(
        ["rollback", backupId(applied) ?? "", "--yes", "--state-dir", join(dir, "state")],
        {
          cwd: join(dir, "a"),
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(other, "utf8"), "other: true\n");
      assert.deepEqual(await readFile(real), ORIGINAL);
      await rm(dir, { recursive: true, force: true });
    },
  );

  test(
    "the changed file replaced by another one at its path: CONFLICT, exit 2, the newcomer kept",
    { timeout: PROBE_MS },
    async () => {
      const dir = await sandbox();
      const file = join(dir, "a", "cluster.yml");
      const applied = await cnidoctor(applyArgs(dir), { cwd: join(dir, "a") });
      assert.equal(applied.code, 0, applied.stderr);
      // `git checkout` of another branch, a copy from elsewhere: a different file under the same name.
      await rm(file);
      await writeFile(file, "nodes: []\n# another cluster\n");
      const r = await cnidoctor(
        ["rollback", backupId(applied) ?? "", "--yes", "--state-dir", join(dir, "state")],
        {
          cwd: dir,
        },
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /CONFLICT/);
      assert.equal(await readFile(file, "utf8"), "nodes: []\n# another cluster\n");
      await rm(dir, { recursive: true, force: true });
    },
  );

  test(
    "symlinked cluster.yml: the target is edited, the link stays, mode kept, rollback exact",
    { timeout: PROBE_MS },
    async () => {
      const dir = await sandbox();
      const real = join(dir, "b", "checkout-cluster.yml");
      await writeFile(real, ORIGINAL);
      await chmod(real, 0o640);
      await rm(join(dir, "a", "cluster.yml"));
      await symlink(real, join(dir, "a", "cluster.yml"));
      const applied = await cnidoctor(applyArgs(dir), { cwd: join(dir, "a") });
      assert.equal(applied.code, 0, applied.stderr);
      assert.ok((await lstat(join(dir, "a", "cluster.yml"))).isSymbolicLink(), "the link is still a link");
      assert.notDeepEqual(await readFile(real), ORIGINAL, "the target was edited");
      assert.equal((await stat(real)).mode & 0o777, 0o640);
      const r = await cnidoctor(
        ["rollback", backupId(applied) ?? "", "--yes", "--state-dir", join(dir, "state")],
        {
          cwd: dir,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await lstat(join(dir, "a", "cluster.yml"))).isSymbolicLink());
      assert.deepEqual(await readFile(real), ORIGINAL);
      assert.equal((await stat(real)).mode & 0o777, 0o640);
      await rm(dir, { recursive: true, force: true });
    },
  );

  test(
    "rollback over a later edit: CONFLICT with a diff, exit 2, nothing restored; --force restores",
    { timeout: PROBE_MS },
    async () => {
      const dir = await sandbox();
      const applied = await cnidoctor(applyArgs(dir), { cwd: join(dir, "a") });
      assert.equal(applied.code, 0, applied.stderr);
      const file = join(dir, "a", "cluster.yml");
      const edited = `${await readFile(file, "utf8")}# operator note added after apply\n`;
      await writeFile(file, edited);
      const args = ["rollback", backupId(applied) ?? "", "--yes", "--state-dir", join(dir, "state")];
      const r = await cnidoctor(args, { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /CONFLICT/);
      assert.match(r.stdout, /\+# operator note added after apply/);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.equal(await readFile(file, "utf8"), edited);
      const forced = await cnidoctor([...args, "--force"], { cwd: dir });
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(await readFile(file), ORIGINAL);
      await rm(dir, { recursive: true, force: true });
    },
  );

  test(
    "two applies at once: one changes the file, every backup holds the original bytes",
    { timeout: PROBE_MS },
    async () => {
      const dir = await sandbox();
      const runs = await Promise.all([0, 1, 2].map(() => cnidoctor(applyArgs(dir), { cwd: join(dir, "a") })));
      const ok = runs.filter((r) => r.code === 0 && backupId(r) !== undefined);
      assert.ok(ok.length >= 1, runs.map((r) => r.stderr).join("\n"));
      for (const id of await backups(dir)) {
        const blob = join(dir, "state", "backups", id, "blobs", "rke1-pin-system-images.orig");
        const bytes = await readFile(blob).catch(() => undefined);
        if (bytes !== undefined) assert.deepEqual(bytes, ORIGINAL, `backup ${id} holds edited bytes`);
      }
      const ids = ok.map((r) => backupId(r) ?? "");
      assert.equal(ids.length, 1, `exactly one apply changed the file: ${ids.join(", ")}`);
      await rm(dir, { recursive: true, force: true });
    },
  );

  test("truncated backup manifest: exit 2, one line naming the file", { timeout: PROBE_MS }, async () => {
    const dir = await sandbox();
    const applied = await cnidoctor(applyArgs(dir), { cwd: join(dir, "a") });
    const id = backupId(applied) ?? "";
    const manifest = join(dir, "state", "backups", id, "manifest.json");
    const text = await readFile(manifest, "utf8");
    await writeFile(manifest, text.slice(0, Math.floor(text.length / 2)));
    const r = await cnidoctor(["rollback", id, "--yes", "--state-dir", join(dir, "state")], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /manifest\.json/);
    await rm(dir, { recursive: true, force: true });
  });

  for (const phase of ["apply", "rollback"] as const)
    test(
      `kill -9 at sampled fs calls of ${phase}: the file is whole and rollback ends at the original`,
      { timeout: PROBE_MS * 2 },
      async () => {
        const prepare = async (d: string): Promise<string[]> => {
          if (phase === "apply") return applyArgs(d);
          const a = await cnidoctor(applyArgs(d), { cwd: join(d, "a") });
          return ["rollback", backupId(a) ?? "", "--yes", "--state-dir", join(d, "state")];
        };
        const dir = await sandbox();
        const log = join(dir, "calls.log");
        const args = await prepare(dir);
        const counted = await cnidoctor(args, { cwd: join(dir, "a"), fault: { scope: dir, log } });
        assert.equal(counted.code, 0, counted.stderr);
        const calls = await callLog(log);
        await inBatches(sweepPoints(calls, 4), 2, async (n) => {
          const d = await sandbox();
          const file = join(d, "a", "cluster.yml");
          const after = ORIGINAL.length;
          const run = await cnidoctor(await prepare(d), { cwd: join(d, "a"), fault: { scope: d, at: n } });
          if (n > calls.length) assert.equal(run.code, 0, `finished before call ${n}: ${run.stderr}`);
          else assert.equal(run.signal, "SIGKILL", `call ${n} (${calls[n - 1] ?? ""}) was not reached`);
          const now = await readFile(file);
          assert.ok(
            now.length > 0 && (now.equals(ORIGINAL) || now.length !== after),
            `call ${n}: file is empty`,
          );
          // Whatever the kill left, rolling back every backup (newest first) ends at the original.
          for (const id of (await backups(d)).reverse()) {
            const r = await cnidoctor(["rollback", id, "--yes", "--state-dir", join(d, "state")], { cwd: d });
            assert.ok(r.code === 0, `call ${n}: rollback ${id}: ${r.stderr}`);
          }
          assert.deepEqual(await readFile(file), ORIGINAL, `call ${n} (${calls[n - 1] ?? "end"})`);
          await rm(d, { recursive: true, force: true });
        });
        await rm(dir, { recursive: true, force: true });
      },
    );

  test("collect --force refuses a directory that is not a bundle", { timeout: PROBE_MS }, async () => {
    const dir = await sandbox();
    const api = await startFakeApiserver(join(dir, "kubeconfig"));
    try {
      const out = join(dir, "notes");
      await mkdir(out);
      await writeFile(join(out, "mine.txt"), "keep me\n");
      const r = await cnidoctor(["collect", "--output", out, "--force", "--kubeconfig", api.kubeconfig], {
        cwd: dir,
      });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(await readFile(join(out, "mine.txt"), "utf8"), "keep me\n");
    } finally {
      await api.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(
    "kill -9 at sampled fs calls of collect --force: the old bundle or the new one, never none",
    { timeout: PROBE_MS * 2 },
    async () => {
      const dir = await sandbox();
      const api = await startFakeApiserver(join(dir, "kubeconfig"));
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
          "--output",
          out,
          "--force",
          "--kubeconfig",
          api.kubeconfig,
        ];
        const log = join(dir, "calls.log");
        const first = await cnidoctor(args(await seed(dir)), { cwd: dir, fault: { scope: dir, log } });
        assert.ok(first.code === 0 || first.code === 4, first.stderr);
        const calls = await callLog(log);
        await inBatches(sweepPoints(calls, 4), 2, async (n) => {
          const d = await mkdtemp(join(tmpdir(), "cnid-faults-collect-"));
          const out = await seed(d);
          const run = await cnidoctor(args(out), { cwd: d, fault: { scope: d, at: n } });
          if (n > calls.length)
            assert.ok(run.code === 0 || run.code === 4, `finished before call ${n}: ${run.stderr}`);
          const marker = await stat(join(out, "cnidoctor-collect.json")).catch(() => undefined);
          const oldAside = await readdir(d).then((xs) => xs.filter((x) => x.endsWith(".cnidoctor-old")));
          assert.ok(
            marker !== undefined || oldAside.length === 1,
            `call ${n} (${calls[n - 1] ?? "end"}): no bundle left`,
          );
          // The next run recovers and replaces cleanly.
          const again = await cnidoctor(args(out), { cwd: d });
          assert.ok(again.code === 0 || again.code === 4, `call ${n}: rerun: ${again.stderr}`);
          assert.ok((await stat(join(out, "cnidoctor-collect.json"))).isFile());
          await assert.rejects(stat(join(out, "old.txt")));
          await rm(d, { recursive: true, force: true });
        });
      } finally {
        await api.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
