// Data-loss probes of issue 15, one row each, judged only by what is on disk afterwards. Run in
// process (the CLI's own argument parsing, command and exit-code mapping) because a child process
// costs seconds of start-up on a busy machine; kill9.test.ts runs the real binary.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { chmod, lstat, mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startFakeApiserver } from "./support/fake-apiserver.js";
import { cnidoctorInProcess as cli } from "./support/inproc.js";
import { applyArgs, backupId, ORIGINAL, rollbackArgs, sandbox } from "./support/sandbox.js";

const PROBE_MS = 30_000; // hard deadline per probe

describe("data-loss probes", { timeout: 180_000 }, () => {
  test(
    "symlinked cluster.yml: the target is edited, the link stays, mode kept, rollback exact",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      const real = join(b.dir, "b", "checkout-cluster.yml");
      await writeFile(real, ORIGINAL);
      await chmod(real, 0o640);
      await rm(b.file);
      await symlink(real, b.file);
      const applied = await cli(applyArgs(b));
      assert.equal(applied.code, 0, applied.stderr);
      assert.ok((await lstat(b.file)).isSymbolicLink(), "the link is still a link");
      assert.notDeepEqual(await readFile(real), ORIGINAL, "the target was edited");
      assert.equal((await stat(real)).mode & 0o777, 0o640);
      const r = await cli(rollbackArgs(b, backupId(applied.stdout)));
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await lstat(b.file)).isSymbolicLink());
      assert.deepEqual(await readFile(real), ORIGINAL);
      assert.equal((await stat(real)).mode & 0o777, 0o640);
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test(
    "a repointed link: rollback restores the file apply changed, never the link's new target",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      const real = join(b.dir, "b", "real.yml");
      await writeFile(real, ORIGINAL);
      await rm(b.file);
      await symlink(real, b.file);
      const applied = await cli(applyArgs(b));
      assert.equal(applied.code, 0, applied.stderr);
      const other = join(b.dir, "b", "other.yml");
      await writeFile(other, "other: true\n");
      await rm(b.file);
      await symlink(other, b.file);
      const r = await cli(rollbackArgs(b, backupId(applied.stdout)));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(other, "utf8"), "other: true\n");
      assert.deepEqual(await readFile(real), ORIGINAL);
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test(
    "the changed file replaced by another at its path: CONFLICT, exit 2, the newcomer kept",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      const applied = await cli(applyArgs(b));
      assert.equal(applied.code, 0, applied.stderr);
      // `git checkout` of another branch, a copy from elsewhere: a different file under the same name.
      await rm(b.file);
      await writeFile(b.file, "nodes: []\n# another cluster\n");
      const r = await cli(rollbackArgs(b, backupId(applied.stdout)));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /CONFLICT/);
      assert.equal(await readFile(b.file, "utf8"), "nodes: []\n# another cluster\n");
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test(
    "rollback over a later edit: CONFLICT with a diff, exit 2, nothing restored; --force restores",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      const applied = await cli(applyArgs(b));
      assert.equal(applied.code, 0, applied.stderr);
      const edited = `${await readFile(b.file, "utf8")}# operator note added after apply\n`;
      await writeFile(b.file, edited);
      const id = backupId(applied.stdout);
      const r = await cli(rollbackArgs(b, id));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /^CONFLICT {8}rke1-pin-system-images: .*changed since apply wrote it/m);
      assert.match(r.stdout, /^\+# operator note added after apply$/m);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.equal(await readFile(b.file, "utf8"), edited);
      const audit = await readFile(join(b.state, "backups", id, "audit.log"), "utf8");
      assert.match(audit, /"action":"conflict"/);
      const forced = await cli(rollbackArgs(b, id, "--force"));
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /overridden by --force/);
      assert.deepEqual(await readFile(b.file), ORIGINAL);
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test(
    "a second run on a locked file stops at once naming the holder; nothing changes",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      await writeFile(
        `${b.file}.cnidoctor.lock`,
        JSON.stringify({
          pid: process.ppid,
          host: (await import("node:os")).hostname(),
          since: "x",
          purpose: "apply",
        }),
      );
      const r = await cli(applyArgs(b));
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, new RegExp(`locked by cnidoctor apply \\(pid ${process.ppid} `));
      assert.deepEqual(await readFile(b.file), ORIGINAL);
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test("truncated backup manifest: exit 2, one line naming the file", { timeout: PROBE_MS }, async () => {
    const b = await sandbox();
    const applied = await cli(applyArgs(b));
    const id = backupId(applied.stdout);
    const manifest = join(b.state, "backups", id, "manifest.json");
    const text = await readFile(manifest, "utf8");
    await writeFile(manifest, text.slice(0, Math.floor(text.length / 2)));
    const r = await cli(rollbackArgs(b, id));
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /manifest\.json/);
    await rm(b.dir, { recursive: true, force: true });
  });

  test(
    "collect --force: a directory that is not a bundle is refused and kept; a bundle is replaced",
    { timeout: PROBE_MS * 3 },
    async () => {
      const b = await sandbox();
      const api = await startFakeApiserver(join(b.dir, "kubeconfig"));
      try {
        const notes = join(b.dir, "notes");
        await mkdir(notes);
        await writeFile(join(notes, "mine.txt"), "keep me\n");
        const r = await cli(["collect", "--output-dir", notes, "--force", "--kubeconfig", api.kubeconfig]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /not a cnidoctor bundle/);
        assert.equal(await readFile(join(notes, "mine.txt"), "utf8"), "keep me\n");
        const bundle = join(b.dir, "bundle");
        const first = await cli(["collect", "--output-dir", bundle, "--kubeconfig", api.kubeconfig]);
        assert.ok(first.code === 0 || first.code === 4, first.stderr);
        await writeFile(join(bundle, "stale.txt"), "from the earlier bundle\n");
        const again = await cli(["collect", "--output-dir", bundle, "--kubeconfig", api.kubeconfig]);
        assert.equal(again.code, 2, "without --force an earlier bundle is kept");
        const forced = await cli([
          "collect",
          "--output-dir",
          bundle,
          "--force",
          "--kubeconfig",
          api.kubeconfig,
        ]);
        assert.ok(forced.code === 0 || forced.code === 4, forced.stderr);
        await assert.rejects(stat(join(bundle, "stale.txt")));
        assert.ok((await stat(join(bundle, "cnidoctor-collect.json"))).isFile());
      } finally {
        await api.close();
        await rm(b.dir, { recursive: true, force: true });
      }
    },
  );
});
