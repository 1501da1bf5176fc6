// The lock beside a target: one holder at a time, the holder named when refused, a lock left by a
// killed run on this host taken over, one from another host or with no readable holder not.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { ownerTag } from "../io/leftovers.js";
import { acquireFileLock, LockedError, lockPathFor } from "./lock.js";

const target = (): string => join(mkdtempSync(join(tmpdir(), "cnidoctor-lock-")), "cluster.yml");
const deadPid = (): number => spawnSync("true").pid ?? 0x3fffff;

describe("file lock", () => {
  test("a second taker is refused with the holder's identity; release frees it", async () => {
    const file = target();
    const release = await acquireFileLock(file, "apply");
    await assert.rejects(acquireFileLock(file, "rollback"), (e: unknown) => {
      assert.ok(e instanceof LockedError);
      assert.match(e.message, new RegExp(`locked by cnidoctor apply \\(pid ${process.pid} on `));
      return true;
    });
    await release();
    assert.equal(existsSync(lockPathFor(file)), false);
    await (
      await acquireFileLock(file, "rollback")
    )();
  });

  test("only the lock itself is left beside the file while held", async () => {
    const file = target();
    const release = await acquireFileLock(file, "apply");
    assert.deepEqual(readdirSync(join(file, "..")), ["cluster.yml.cnidoctor.lock"]);
    await release();
  });

  test("a lock whose holder died on this host is taken over; another host's is not", async () => {
    const file = target();
    const since = new Date().toISOString();
    writeFileSync(
      lockPathFor(file),
      JSON.stringify({ pid: deadPid(), host: hostname(), since, purpose: "apply" }),
    );
    await (
      await acquireFileLock(file, "apply")
    )();
    writeFileSync(
      lockPathFor(file),
      JSON.stringify({ pid: deadPid(), host: "elsewhere", since, purpose: "apply" }),
    );
    await assert.rejects(acquireFileLock(file, "apply"), /on elsewhere/);
    writeFileSync(lockPathFor(file), "{");
    await assert.rejects(acquireFileLock(file, "apply"), /names no holder/);
  });

  test("a killed run's leftover temporary, hard-linked to a live lock, does not rename its holder", async () => {
    const file = target();
    const since = new Date().toISOString();
    // A live holder (this process's parent) whose temporary name collides with ours: a reused PID.
    writeFileSync(
      lockPathFor(file),
      JSON.stringify({ pid: process.ppid, host: hostname(), since, purpose: "apply" }),
    );
    const { linkSync } = await import("node:fs");
    linkSync(lockPathFor(file), `${lockPathFor(file)}.${ownerTag()}`);
    await assert.rejects(acquireFileLock(file, "rollback"), new RegExp(`pid ${process.ppid} `));
  });
});
