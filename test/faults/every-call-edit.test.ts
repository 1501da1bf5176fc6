// Every file-system call of apply and of rollback, not a sample: the run is frozen just before
// call N (what SIGKILL there leaves on disk) or an editor appends to cluster.yml just before it,
// and only what is on disk afterwards is judged. In-process (support/fs-tap.ts) so that visiting
// each of the ~70 calls costs milliseconds; the kill -9 probes in kill9.test.ts check the
// same story with real processes at sampled calls.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { underTap } from "./support/fs-tap.js";
import { apply, callsOf, rollback } from "./support/sweep.js";
import { backups, sandbox } from "./support/sandbox.js";

describe("an edit at every fs call of apply", { timeout: 150_000 }, () => {
  test("an edit landing before any call of apply is kept, and rollback never drops it", async () => {
    const { calls } = await callsOf(apply);
    assert.ok(calls.length > 30, `only ${calls.length} calls counted: apply did not run`);
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
