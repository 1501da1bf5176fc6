// Helpers shared by the every-call sweeps: in-process apply/rollback and their fault-free call lists.

import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { underTap } from "./fs-tap.js";
import { cnidoctorInProcess, type InprocRun } from "./inproc.js";
import { applyArgs, backups, ORIGINAL, rollbackArgs, sandbox, type Box } from "./sandbox.js";

export const apply = (b: Box): Promise<InprocRun> => cnidoctorInProcess(applyArgs(b));
export const rollback = (b: Box, id: string): Promise<InprocRun> => cnidoctorInProcess(rollbackArgs(b, id));

/** Rolls back everything that is there, newest first, and says whether the file is the original. */
export async function rollBackAll(b: Box, at: string): Promise<void> {
  for (const id of await backups(b)) {
    const r = await rollback(b, id);
    assert.equal(r.code, 0, `${at}: rollback ${id}: ${r.stderr}\n${r.stdout}`);
  }
  assert.deepEqual(await readFile(b.file), ORIGINAL, `${at}: the file is not back to the original`);
}

/** The calls a fault-free run makes, and the bytes it leaves in cluster.yml. */
export async function callsOf(
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
