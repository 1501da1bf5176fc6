// What a killed run leaves is cleared by the next one (issue 15): backup husks, the lock and the
// temporaries beside a file apply or rollback was changing, collect's aside and half-written
// bundles. Only cnidoctor's own names whose maker ran on this host and is gone are removed, one
// `cleanup:` line says what, also when the command then fails; everything else stays.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { HOST_TAG } from "../../src/io/leftovers.js";
import { cnidoctorInProcess as cli } from "./support/inproc.js";
import { applyArgs, backupId, ORIGINAL, rollbackArgs, sandbox, type Box } from "./support/sandbox.js";

const PROBE_MS = 30_000; // hard deadline per probe

/** A PID that existed and is gone: a finished child's. */
const deadPid = (): number => spawnSync("true").pid ?? 0x3fffff;

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

/** A killed apply's leftovers beside b.file and in the state dir; returns their paths. */
async function killedApplyLeftovers(b: Box, pid: number): Promise<string[]> {
  const dir = join(b.dir, "a");
  const lock = `${b.file}.cnidoctor.lock`;
  const holder = JSON.stringify({ pid, host: hostname(), since: "2024-08-14T09:01:36Z", purpose: "apply" });
  await writeFile(lock, holder);
  await link(lock, `${lock}.${pid}.${HOST_TAG}`);
  await writeFile(join(dir, `.cluster.yml.cnidoctor-tmp-${pid}.${HOST_TAG}`), "half-written new bytes");
  // The pin of the file a killed write was replacing, still the same inode as cluster.yml.
  await link(b.file, join(dir, `.cluster.yml.cnidoctor-tmp-${pid}.${HOST_TAG}.replaced`));
  const husk = join(b.state, "backups", `.20240814T090136123Z-0000-1a2b3c.${pid}.${HOST_TAG}.partial`);
  await mkdir(join(husk, "blobs"), { recursive: true });
  await writeFile(join(husk, "manifest.json"), "{}");
  return [
    lock,
    `${lock}.${pid}.${HOST_TAG}`,
    join(dir, `.cluster.yml.cnidoctor-tmp-${pid}.${HOST_TAG}`),
    join(dir, `.cluster.yml.cnidoctor-tmp-${pid}.${HOST_TAG}.replaced`),
    husk,
  ];
}

/** Look-alikes that must survive: a live run's, another host's, names that are not ours. */
async function strangers(b: Box, dead: number): Promise<string[]> {
  const dir = join(b.dir, "a");
  const live = process.ppid;
  const paths = [
    join(dir, `.cluster.yml.cnidoctor-tmp-${live}.${HOST_TAG}`),
    join(dir, `.cluster.yml.cnidoctor-tmp-${dead}.0badc0de`),
    join(dir, `cluster.yml.cnidoctor-tmp-${dead}.${HOST_TAG}`),
    join(dir, `.cluster.yml.cnidoctor-tmp-${dead}`),
    join(dir, "notes.txt"),
    join(dir, `other.yml.cnidoctor.lock.${live}.${HOST_TAG}`),
  ];
  for (const p of paths) await writeFile(p, "not yours\n");
  // A lock held by a live process, and one from another host.
  await writeFile(
    join(dir, "live.yml.cnidoctor.lock"),
    JSON.stringify({ pid: live, host: hostname(), since: "x", purpose: "apply" }),
  );
  await writeFile(
    join(dir, "far.yml.cnidoctor.lock"),
    JSON.stringify({ pid: dead, host: "another-host", since: "x", purpose: "apply" }),
  );
  const liveHusk = join(b.state, "backups", `.20240814T090136124Z-0000-1a2b3c.${live}.${HOST_TAG}.partial`);
  await mkdir(liveHusk, { recursive: true });
  return [...paths, join(dir, "live.yml.cnidoctor.lock"), join(dir, "far.yml.cnidoctor.lock"), liveHusk];
}

/** The paths the one `cleanup: removed` line names. */
function cleanupLine(stderr: string): string[] {
  const lines = stderr.split("\n").filter((l) => l.includes("cleanup: removed"));
  assert.equal(lines.length, 1, `one cleanup line, got:\n${stderr}`);
  const m = /cleanup: removed (.*) \(left by a killed cnidoctor run on this host\)$/.exec(lines[0] ?? "");
  assert.ok(m !== null, lines[0]);
  return (m[1] ?? "").split(", ");
}

describe("leftovers of a killed run", { timeout: 240_000 }, () => {
  test(
    "apply clears a dead run's lock, temporaries and backup husk, names them, keeps the rest",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      await mkdir(join(b.state, "backups"), { recursive: true });
      const dead = deadPid();
      const ours = await killedApplyLeftovers(b, dead);
      const others = await strangers(b, dead);
      const r = await cli(applyArgs(b));
      assert.equal(r.code, 0, r.stderr);
      const line = cleanupLine(r.stderr);
      for (const p of ours) {
        assert.equal(await exists(p), false, `${p} is still there`);
        assert.ok(line.includes(p), `${p} not named in: ${line.join(", ")}`);
      }
      for (const p of others) {
        assert.ok(await exists(p), `${p} was removed`);
        assert.ok(!line.includes(p), `${p} named in: ${line.join(", ")}`);
      }
      assert.notDeepEqual(await readFile(b.file), ORIGINAL, "apply went on to edit the file");
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test("the cleanup is said even when the command then fails", { timeout: PROBE_MS }, async () => {
    const b = await sandbox();
    await mkdir(join(b.state, "backups"), { recursive: true });
    const ours = await killedApplyLeftovers(b, deadPid());
    const r = await cli([
      "apply",
      "--rke-config",
      b.file,
      "--only",
      "no-such-step",
      "--yes",
      "--state-dir",
      b.state,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no step no-such-step in the plan/);
    cleanupLine(r.stderr);
    for (const p of ours) assert.equal(await exists(p), false, `${p} is still there`);
    assert.deepEqual(await readFile(b.file), ORIGINAL);
    await rm(b.dir, { recursive: true, force: true });
  });

  test(
    "a pin that may hold the only copy of an edit is kept and pointed out",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      const pin = join(b.dir, "a", `.cluster.yml.cnidoctor-tmp-${deadPid()}.${HOST_TAG}.replaced`);
      await writeFile(pin, "an edit made while a killed apply was writing\n");
      const r = await cli(applyArgs(b));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /cleanup: kept .*\.replaced: it holds bytes a killed write replaced/);
      assert.equal(await readFile(pin, "utf8"), "an edit made while a killed apply was writing\n");
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test(
    "rollback clears leftovers beside the files it restores and in the state dir",
    { timeout: PROBE_MS },
    async () => {
      const b = await sandbox();
      const applied = await cli(applyArgs(b));
      assert.equal(applied.code, 0, applied.stderr);
      const ours = await killedApplyLeftovers(b, deadPid());
      // A husk of an earlier version's naming (no maker), an hour and more old: abandoned by age.
      const legacy = join(b.state, "backups", ".20240814T090136123Z-0000-aaaaaa.partial");
      await mkdir(legacy);
      const fresh = join(
        b.state,
        "backups",
        `.${new Date().toISOString().replace(/[-:.]/g, "")}-0000-bbbbbb.partial`,
      );
      await mkdir(fresh);
      const r = await cli(rollbackArgs(b, backupId(applied.stdout)));
      assert.equal(r.code, 0, r.stderr);
      const line = cleanupLine(r.stderr);
      for (const p of [...ours, legacy]) {
        assert.equal(await exists(p), false, `${p} is still there`);
        assert.ok(line.includes(p), `${p} not named`);
      }
      assert.ok(await exists(fresh), "a husk of an earlier version younger than an hour was removed");
      assert.deepEqual(await readFile(b.file), ORIGINAL);
      await rm(b.dir, { recursive: true, force: true });
    },
  );

  test(
    "collect finishes a killed swap before reading the cluster, even when the read then fails",
    { timeout: PROBE_MS },
    async () => {
      const root = await mkdtemp(join(tmpdir(), "cnid-faults-leftover-collect-"));
      const dead = deadPid();
      const kubeconfig = join(root, "kubeconfig");
      await writeFile(
        kubeconfig,
        [
          "apiVersion: v1",
          "kind: Config",
          "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]",
          "users: [{name: u, user: {token: t}}]",
          "contexts: [{name: x, context: {cluster: c, user: u}}]",
          "current-context: x",
          "",
        ].join("\n"),
      );
      const bundle = async (p: string, what: string): Promise<void> => {
        await mkdir(p, { recursive: true });
        await writeFile(join(p, "cnidoctor-collect.json"), "{}\n");
        await writeFile(join(p, "what.txt"), what);
      };
      // 1: killed after the old bundle went aside, before the new one came in: it goes back.
      await bundle(join(root, ".one.cnidoctor-old-" + `${dead}.${HOST_TAG}`), "old one\n");
      await mkdir(join(root, `.one.cnidoctor-new-${dead}.${HOST_TAG}-1700000000000`, "kube-system"), {
        recursive: true,
      });
      // A live run's half-written bundle and another host's aside are not touched.
      const liveNew = join(root, `.one.cnidoctor-new-${process.ppid}.${HOST_TAG}-1700000000000`);
      await mkdir(liveNew);
      const farAside = join(root, `.one.cnidoctor-old-${dead}.0badc0de`);
      await bundle(farAside, "another host's\n");
      const r1 = await cli([
        "collect",
        "--output-dir",
        join(root, "one"),
        "--force",
        "--kubeconfig",
        kubeconfig,
      ]);
      assert.equal(r1.code, 2, r1.stderr);
      assert.match(r1.stderr, /could not read the cluster/);
      assert.match(r1.stderr, /cleanup: removed .*\.one\.cnidoctor-new-/);
      assert.match(r1.stderr, /cleanup: put back .*\/one \(the earlier bundle/);
      assert.equal(await readFile(join(root, "one", "what.txt"), "utf8"), "old one\n");
      assert.ok(await exists(liveNew));
      assert.ok(await exists(farAside));
      // 2: killed after the new bundle came in: the old one aside is deleted.
      await bundle(join(root, "two"), "new two\n");
      const aside = join(root, `.two.cnidoctor-old-${dead}.${HOST_TAG}`);
      await bundle(aside, "old two\n");
      const r2 = await cli([
        "collect",
        "--output-dir",
        join(root, "two"),
        "--force",
        "--kubeconfig",
        kubeconfig,
      ]);
      assert.equal(r2.code, 2, r2.stderr);
      assert.ok(cleanupLine(r2.stderr).includes(aside));
      assert.equal(await exists(aside), false);
      assert.equal(await readFile(join(root, "two", "what.txt"), "utf8"), "new two\n");
      // 3: what stands at --output-dir now is not a bundle: the aside is kept, and said so.
      await mkdir(join(root, "three"));
      await writeFile(join(root, "three", "mine.txt"), "user data\n");
      const aside3 = join(root, `.three.cnidoctor-old-${dead}.${HOST_TAG}`);
      await bundle(aside3, "old three\n");
      const r3 = await cli([
        "collect",
        "--output-dir",
        join(root, "three"),
        "--force",
        "--kubeconfig",
        kubeconfig,
      ]);
      assert.equal(r3.code, 2, r3.stderr);
      assert.match(r3.stderr, /cleanup: kept .*\.three\.cnidoctor-old-.*is not a bundle now/);
      assert.ok(await exists(aside3));
      assert.deepEqual((await readdir(join(root, "three"))).sort(), ["mine.txt"]);
      await rm(root, { recursive: true, force: true });
    },
  );
});
