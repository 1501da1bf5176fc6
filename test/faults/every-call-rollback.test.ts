// Every file-system call of apply and of rollback, not a sample: the run is frozen just before
// call N (what SIGKILL there leaves on disk) or an editor appends to cluster.yml just before it,
// and only what is on disk afterwards is judged. In-process (support/fs-tap.ts) so that visiting
// each of the ~70 calls costs milliseconds; the kill -9 probes in kill9.test.ts check the
// same story with real processes at sampled calls.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { underTap } from "./support/fs-tap.js";
import { apply, callsOf, rollBackAll, rollback } from "./support/sweep.js";
import { backupId, ORIGINAL, sandbox, type Box } from "./support/sandbox.js";

describe("every fs call of rollback, killed", { timeout: 150_000 }, () => {
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
});
