// Backups under <stateDir>/backups/<ID>/: manifest.json (what was backed up and how far apply got,
// rewritten after every change), audit.log (one JSON line per action), and blobs/ (original file
// bytes, objects as fetched minus server-managed fields). Written before each change, so an apply
// interrupted anywhere leaves a manifest that rollback can follow.

import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { InputError, UsageError } from "../errors.js";
import type { KubeObjectRef, StepKind } from "../model/plan.js";

export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== ""
      ? env.XDG_STATE_HOME
      : join(homedir(), ".local", "state");
  return join(base, "cnidoctor");
}

export type EntryState = "backed-up" | "applied" | "failed" | "rolled-back";

export interface BackupEntry {
  stepId: string;
  kind: StepKind;
  state: EntryState;
  /** Files: the path, whether it existed, and the blob holding its original bytes. */
  file?: { path: string; existed: boolean; blob?: string; sha256?: string };
  /** API objects: the reference, whether it existed, and the blob holding it as fetched. */
  object?: { ref: KubeObjectRef; existed: boolean; blob?: string };
  /** For steps with nothing to restore (restarts): what was done. */
  note?: string;
}

export interface BackupManifest {
  schemaVersion: 1;
  id: string;
  advisoryId: string;
  createdAt: string;
  target: string[];
  status: "in-progress" | "complete" | "failed" | "rolled-back" | "rollback-failed";
  entries: BackupEntry[];
}

export interface AuditLine {
  step: string;
  action: "dry-run" | "backup" | "apply" | "skip" | "rollback" | "fail";
  result: string;
}

function newId(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

export class BackupSession {
  private constructor(
    readonly dir: string,
    readonly manifest: BackupManifest,
    private readonly clock: () => Date,
  ) {}

  get id(): string {
    return this.manifest.id;
  }

  static async create(args: {
    stateDir: string;
    advisoryId: string;
    target: string[];
    now: Date;
    clock?: () => Date;
  }): Promise<BackupSession> {
    const id = newId(args.now);
    const dir = join(args.stateDir, "backups", id);
    await mkdir(join(dir, "blobs"), { recursive: true, mode: 0o700 });
    const manifest: BackupManifest = {
      schemaVersion: 1,
      id,
      advisoryId: args.advisoryId,
      createdAt: args.now.toISOString(),
      target: args.target,
      status: "in-progress",
      entries: [],
    };
    const session = new BackupSession(dir, manifest, args.clock ?? (() => new Date()));
    await session.save();
    return session;
  }

  static async open(stateDir: string, id: string, clock?: () => Date): Promise<BackupSession> {
    if (!/^[0-9TZ]+-[0-9a-f]{6}$/.test(id))
      throw new UsageError(`rollback: '${id}' is not a backup ID (e.g. 20240814T090136Z-1a2b3c)`);
    const dir = join(stateDir, "backups", id);
    let text: string;
    try {
      text = await readFile(join(dir, "manifest.json"), "utf8");
    } catch {
      throw new InputError(dir, "no such backup (see --state-dir)");
    }
    const manifest = JSON.parse(text) as BackupManifest;
    if (manifest.schemaVersion !== 1 || !Array.isArray(manifest.entries))
      throw new InputError(join(dir, "manifest.json"), "not a cnidoctor backup manifest");
    return new BackupSession(dir, manifest, clock ?? (() => new Date()));
  }

  async save(): Promise<void> {
    const file = join(this.dir, "manifest.json");
    await writeFile(`${file}.tmp`, `${JSON.stringify(this.manifest, null, 2)}\n`, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async putBlob(name: string, bytes: Buffer | string): Promise<string> {
    await writeFile(join(this.dir, "blobs", name), bytes, { mode: 0o600 });
    return name;
  }

  getBlob(name: string): Promise<Buffer> {
    return readFile(join(this.dir, "blobs", name));
  }

  async record(entry: BackupEntry): Promise<void> {
    this.manifest.entries.push(entry);
    await this.save();
  }

  async setState(stepId: string, state: EntryState): Promise<void> {
    for (const e of this.manifest.entries) if (e.stepId === stepId) e.state = state;
    await this.save();
  }

  async audit(line: AuditLine): Promise<void> {
    const record = { time: this.clock().toISOString(), backup: this.id, ...line };
    await appendFile(join(this.dir, "audit.log"), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }
}
