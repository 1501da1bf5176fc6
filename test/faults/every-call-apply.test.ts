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
import { backupId, ORIGINAL, sandbox } from "./support/sandbox.js";

describe("every fs call of apply, killed", { timeout: 150_000 }, () => {
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
});
