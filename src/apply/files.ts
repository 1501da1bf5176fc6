// File steps: edit a local file (cluster.yml) whose bytes must still be what was planned, or write a
// generated file. The backup is the original bytes (or "did not exist"); undo puts them back
// byte for byte (or removes the file).

import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { FileEditStep, FileWriteStep, Step } from "../model/plan.js";
import type { BackupEntry } from "./backup-store.js";
import type { BackupSession } from "./backup-store.js";
import type { StepHandler } from "./executor.js";

type FileStep = FileEditStep | FileWriteStep;

function asFileStep(step: Step): FileStep {
  if (step.kind !== "file-edit" && step.kind !== "file-write") throw new Error(`not a file step: ${step.id}`);
  return step;
}

async function readMaybe(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const wanted = (s: FileStep): string => (s.kind === "file-edit" ? s.after : s.content);

/** Write through a temporary file and rename, keeping the original mode. */
async function writeAtomically(path: string, bytes: Buffer | string): Promise<void> {
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => 0o644,
  );
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.cnidoctor-tmp`;
  await writeFile(tmp, bytes, { mode });
  await rename(tmp, path);
}

export class FileHandler implements StepHandler {
  readonly kinds = ["file-edit", "file-write"] as const;

  async inspect(step: Step): Promise<"applied" | "pending"> {
    const s = asFileStep(step);
    const current = await readMaybe(s.path);
    return current !== undefined && current.toString("utf8") === wanted(s) ? "applied" : "pending";
  }

  async rehearse(step: Step): Promise<void> {
    const s = asFileStep(step);
    if (s.kind !== "file-edit") return;
    const current = await readMaybe(s.path);
    if (current === undefined) throw new Error(`${s.path}: no longer exists`);
    if (sha(current) !== s.beforeSha256)
      throw new Error(`${s.path}: changed since the plan was made; run plan again`);
  }

  async backup(step: Step, session: BackupSession): Promise<BackupEntry> {
    const s = asFileStep(step);
    const current = await readMaybe(s.path);
    const blob = current === undefined ? undefined : await session.putBlob(`${s.id}.orig`, current);
    return {
      stepId: s.id,
      kind: s.kind,
      state: "backed-up",
      file: {
        path: s.path,
        existed: current !== undefined,
        ...(blob !== undefined && current !== undefined ? { blob, sha256: sha(current) } : {}),
      },
    };
  }

  async apply(step: Step): Promise<string> {
    const s = asFileStep(step);
    await writeAtomically(s.path, wanted(s));
    return s.kind === "file-edit"
      ? `edited ${s.path}`
      : `wrote ${s.path}${s.destination !== undefined ? ` (place it at ${s.destination})` : ""}`;
  }

  async undo(entry: BackupEntry, session: BackupSession): Promise<string> {
    const f = entry.file;
    if (f === undefined) throw new Error(`${entry.stepId}: backup has no file record`);
    if (!f.existed || f.blob === undefined) {
      await rm(f.path, { force: true });
      return `removed ${f.path} (it did not exist before)`;
    }
    const bytes = await session.getBlob(f.blob);
    if (f.sha256 !== undefined && sha(bytes) !== f.sha256)
      throw new Error(`${f.path}: backup blob is corrupt`);
    await writeAtomically(f.path, bytes);
    return `restored ${f.path} byte for byte`;
  }
}
