// File steps: edit a local file (cluster.yml) whose bytes must still be what was planned, or write a
// generated file. Every path is made canonical (absolute, symlinks resolved) before it is used, so
// a rollback from another directory finds the same file and a symlinked cluster.yml keeps its link
// while its target is edited. The backup holds the original bytes, mode and owner; apply records
// what it wrote, and undo refuses to overwrite anything else.

import { stat } from "node:fs/promises";
import type { FileEditStep, FileWriteStep, Step } from "../model/plan.js";
import { unifiedDiff } from "../remediate/diff.js";
import type { BackupEntry, BackupSession } from "./backup-store.js";
import {
  canonicalPath,
  identify,
  readIfExists,
  removeDurably,
  ReplacedChanged,
  sha256,
  writeDurably,
  type FileIdentity,
} from "./durable.js";
import type { StepHandler } from "./executor.js";
import { acquireFileLock, type Release } from "./lock.js";

type FileStep = FileEditStep | FileWriteStep;

function asFileStep(step: Step): FileStep {
  if (step.kind !== "file-edit" && step.kind !== "file-write") throw new Error(`not a file step: ${step.id}`);
  return step;
}

const wanted = (s: FileStep): string => (s.kind === "file-edit" ? s.after : s.content);

type FileRecord = NonNullable<BackupEntry["file"]>;

function fileRecord(entry: BackupEntry): FileRecord {
  if (entry.file === undefined) throw new Error(`${entry.stepId}: backup has no file record`);
  return entry.file;
}

const short = (h: string | undefined): string => (h === undefined ? "none" : h.slice(0, 12));

export class FileHandler implements StepHandler {
  readonly kinds = ["file-edit", "file-write"] as const;

  constructor(private readonly purpose = "apply") {}

  async lock(target: Step | BackupEntry): Promise<Release | undefined> {
    const path = "stepId" in target ? fileRecord(target).path : await canonicalPath(asFileStep(target).path);
    return acquireFileLock(path, this.purpose);
  }

  async inspect(step: Step): Promise<"applied" | "pending"> {
    const s = asFileStep(step);
    const current = await readIfExists(await canonicalPath(s.path));
    return current !== undefined && current.toString("utf8") === wanted(s) ? "applied" : "pending";
  }

  async rehearse(step: Step): Promise<void> {
    const s = asFileStep(step);
    const path = await canonicalPath(s.path);
    if (s.kind !== "file-edit") return;
    const current = await readIfExists(path);
    if (current === undefined) throw new Error(`${s.path}: no longer exists`);
    if (sha256(current) !== s.beforeSha256)
      throw new Error(`${s.path}: changed since the plan was made; run plan again`);
  }

  async backup(step: Step, session: BackupSession): Promise<BackupEntry> {
    const s = asFileStep(step);
    const path = await canonicalPath(s.path);
    const found = await identify(path);
    // The bytes backed up must be the ones rehearsed and planned: an edit landing between the
    // rehearsal and this read would otherwise sit only in the backup, and the write would drop it.
    if (s.kind === "file-edit" && found?.id.sha256 !== s.beforeSha256)
      throw new Error(
        `${s.path}: changed while apply ran (after its rehearsal); nothing written — run plan again`,
      );
    const blob = found === undefined ? undefined : await session.putBlob(`${s.id}.orig`, found.bytes);
    return {
      stepId: s.id,
      kind: s.kind,
      state: "backed-up",
      file: {
        path,
        ...(path !== s.path ? { requested: s.path } : {}),
        existed: found !== undefined,
        ...(found !== undefined && blob !== undefined ? { blob, ...found.id } : {}),
        intendedSha256: sha256(wanted(s)),
      },
    };
  }

  async apply(step: Step, entry: BackupEntry, session: BackupSession): Promise<string> {
    const s = asFileStep(step);
    const f = fileRecord(entry);
    // Last look before the rename, and one after it (writeDurably pins the file it replaces): an
    // edit made since the backup (an editor, another tool) must not be overwritten, nor be missing
    // from the backup rollback would restore.
    const changed = `${s.path}: changed while apply ran (after its backup, before its write); nothing written, the change is kept — run plan again`;
    const now = await identify(f.path);
    if (now?.id.sha256 !== f.sha256) throw new Error(changed);
    const bytes = Buffer.from(wanted(s), "utf8");
    const blob = await session.putBlob(`${s.id}.applied`, bytes);
    try {
      await writeDurably(
        f.path,
        bytes,
        { mode: f.mode ?? 0o644, ...(f.uid !== undefined ? { uid: f.uid, gid: f.gid ?? 0 } : {}) },
        f.sha256 ?? null,
      );
    } catch (e) {
      if (e instanceof ReplacedChanged) throw new Error(changed);
      throw e;
    }
    // The hash of the bytes written, not of a re-read: an edit landing right after the rename is
    // somebody else's change, which rollback must see as one.
    const st = await stat(f.path).catch(() => undefined);
    if (st !== undefined) f.written = { sha256: sha256(bytes), dev: st.dev, ino: st.ino, blob };
    const shown = f.requested !== undefined ? `${f.requested} (${f.path})` : f.path;
    return s.kind === "file-edit"
      ? `edited ${shown}`
      : `wrote ${shown}${s.destination !== undefined ? ` (place it at ${s.destination})` : ""}`;
  }

  async conflict(entry: BackupEntry, session: BackupSession): Promise<string | undefined> {
    const f = fileRecord(entry);
    const now = await identify(f.path);
    // A file apply created and somebody has since removed is already as it was before apply.
    if (now === undefined && !f.existed) return undefined;
    // The original bytes are back already (a rollback killed after its write, before its record):
    // restoring them again loses nothing.
    if (now !== undefined && f.existed && now.id.sha256 === f.sha256) return undefined;
    const left = f.written;
    if (left === undefined) {
      // apply stopped before its write was recorded: the file is the original, apply's own bytes
      // (killed between the rename and the manifest), or somebody else's.
      if (now !== undefined && (now.id.sha256 === f.sha256 || now.id.sha256 === f.intendedSha256))
        return undefined;
    } else if (now !== undefined && now.id.sha256 === left.sha256 && now.id.dev === left.dev)
      return undefined;
    return this.describe(f, now, session);
  }

  private async describe(
    f: FileRecord,
    now: { bytes: Buffer; id: FileIdentity } | undefined,
    session: BackupSession,
  ): Promise<string> {
    const expected = f.written?.sha256 ?? f.intendedSha256;
    if (now === undefined)
      return `${f.path}: removed or moved since apply wrote it; rollback would recreate it (pass --force to restore the original anyway)`;
    if (f.written !== undefined && now.id.dev !== f.written.dev)
      return `${f.path}: is now on another file system (device ${now.id.dev}, apply wrote device ${f.written.dev}); not the file apply changed`;
    const applied =
      f.written !== undefined ? (await session.getBlob(f.written.blob)).toString("utf8") : undefined;
    const diff = applied !== undefined ? `\n${unifiedDiff(applied, now.bytes.toString("utf8"), f.path)}` : "";
    return `${f.path}: changed since apply wrote it (sha256 ${short(now.id.sha256)}, apply left ${short(expected)}); rollback would discard that change (pass --force to restore the original anyway)${diff}`;
  }

  async undo(entry: BackupEntry, session: BackupSession): Promise<string> {
    const f = fileRecord(entry);
    const now = await identify(f.path);
    if (!f.existed || f.blob === undefined) {
      if (now === undefined) return `${f.path} absent, as before`;
      await removeDurably(f.path);
      return `removed ${f.path} (it did not exist before)`;
    }
    const bytes = await session.getBlob(f.blob);
    if (f.sha256 !== undefined && sha256(bytes) !== f.sha256)
      throw new Error(`${f.path}: backup blob is corrupt`);
    if (now !== undefined && now.id.sha256 === f.sha256) return `${f.path} already holds the original bytes`;
    // Expecting what was just looked at: an edit landing between that look and the rename fails
    // this step (reported, the edit kept) rather than vanishing.
    await writeDurably(
      f.path,
      bytes,
      { mode: f.mode ?? 0o644, ...(f.uid !== undefined ? { uid: f.uid, gid: f.gid ?? 0 } : {}) },
      now?.id.sha256 ?? null,
    );
    return `restored ${f.path} byte for byte (mode ${(f.mode ?? 0o644).toString(8)}${f.uid !== undefined ? `, owner ${f.uid}:${f.gid ?? 0}` : ""})`;
  }
}
