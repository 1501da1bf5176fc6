// Backups on disk: IDs that sort in creation order even within one millisecond, a backup that
// exists only once its manifest does, manifests that are not JSON refused as bad input (exit 2),
// and the fields rollback relies on written through to the manifest.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError, UsageError } from "../errors.js";
import { BackupSession } from "./backup-store.js";

const fresh = (): string => mkdtempSync(join(tmpdir(), "cnidoctor-backups-"));
const now = new Date("2024-08-14T09:01:36.000Z");

describe("backup store", () => {
  test("IDs made one after another sort in that order, within one millisecond and across seconds", async () => {
    const state = fresh();
    const ids: string[] = [];
    for (let k = 0; k < 25; k++)
      ids.push((await BackupSession.create({ stateDir: state, advisoryId: "X", target: [], now })).id);
    ids.push(
      (
        await BackupSession.create({
          stateDir: state,
          advisoryId: "X",
          target: [],
          now: new Date(now.getTime() + 1),
        })
      ).id,
    );
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
    assert.match(ids[0] ?? "", /^20240814T090136000Z-0000-[0-9a-f]{6}$/);
    assert.match(ids[24] ?? "", /^20240814T090136000Z-0024-[0-9a-f]{6}$/);
  });

  test("a backup appears under its ID only with its manifest; nothing else is left beside it", async () => {
    const state = fresh();
    const s = await BackupSession.create({ stateDir: state, advisoryId: "X", target: ["cluster.yml"], now });
    assert.deepEqual(readdirSync(join(state, "backups")), [s.id]);
    const m = JSON.parse(readFileSync(join(s.dir, "manifest.json"), "utf8")) as {
      id: string;
      status: string;
    };
    assert.equal(m.id, s.id);
    assert.equal(m.status, "in-progress");
  });

  test("a truncated manifest is bad input naming the file (exit 2), not an internal error", async () => {
    const state = fresh();
    const s = await BackupSession.create({ stateDir: state, advisoryId: "X", target: [], now });
    const file = join(s.dir, "manifest.json");
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.slice(0, text.length >> 1));
    await assert.rejects(BackupSession.open(state, s.id), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /manifest\.json/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    writeFileSync(file, `{"schemaVersion": 2}`);
    await assert.rejects(BackupSession.open(state, s.id), InputError);
    await assert.rejects(BackupSession.open(state, "../../etc"), UsageError);
    await assert.rejects(BackupSession.open(state, "20240814T090136000Z-0001-abcdef"), InputError);
  });

  test("what rollback relies on is in the manifest on disk after each record", async () => {
    const state = fresh();
    const s = await BackupSession.create({ stateDir: state, advisoryId: "X", target: [], now });
    await s.record({
      stepId: "edit",
      kind: "file-edit",
      state: "backed-up",
      file: {
        path: "/abs/cluster.yml",
        requested: "cluster.yml",
        existed: true,
        sha256: "aa",
        dev: 1,
        ino: 2,
      },
    });
    const entry = s.manifest.entries[0];
    if (entry?.file === undefined) throw new Error("no entry");
    entry.file.written = { sha256: "bb", dev: 1, ino: 3, blob: "edit.applied" };
    await s.setState("edit", "applied");
    const back = await BackupSession.open(state, s.id);
    assert.deepEqual(back.manifest.entries[0], {
      stepId: "edit",
      kind: "file-edit",
      state: "applied",
      file: {
        path: "/abs/cluster.yml",
        requested: "cluster.yml",
        existed: true,
        sha256: "aa",
        dev: 1,
        ino: 2,
        written: { sha256: "bb", dev: 1, ino: 3, blob: "edit.applied" },
      },
    });
  });
});
