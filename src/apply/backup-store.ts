// Backups under <stateDir>/backups/<ID>/: manifest.json (what was backed up and how far apply got,
// rewritten after every change), audit.log (one JSON line per action), and blobs/ (original file
// bytes, objects as fetched minus server-managed fields). Written before each change, so an apply
// interrupted anywhere leaves a manifest that rollback can follow.

import { appendFile, mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { InputError, UsageError } from "../errors.js";
import { syncDir } from "../io/durability.js";
import { makerGone, OWNER_PATTERN, ownerTag, type Cleanup } from "../io/leftovers.js";
import type { KubeObjectRef, StepKind } from "../model/plan.js";

export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== ""
      ? env.XDG_STATE_HOME
      : join(homedir(), ".local", "state");
  return join(base, "cnidoctor");
}

/** What apply left in place, so rollback can tell whether anything changed it since. */
export interface WrittenFile {
  sha256: string;
  dev: number;
  ino: number;
  /** The bytes apply wrote, for the diff shown when rollback finds them changed. */
  blob: string;
}

export type EntryState = "backed-up" | "applied" | "failed" | "rolled-back";

export interface BackupEntry {
  stepId: string;
  kind: StepKind;
  state: EntryState;
  /** Files: the path, whether it existed, and the blob holding its original bytes. */
  file?: {
    /** Absolute, with symlinks resolved: the file that was changed, wherever rollback runs from. */
    path: string;
    /** The path as the plan named it (a symlink or a relative path), for people. */
    requested?: string;
    existed: boolean;
    blob?: string;
    sha256?: string;
    /** Device and inode, mode and owner of the original, restored with it. */
    dev?: number;
    ino?: number;
    mode?: number;
    uid?: number;
    gid?: number;
    /** The sha256 of the bytes apply is about to write: a kill after the write but before the
     *  manifest says so still lets rollback recognise them as apply's own. */
    intendedSha256?: string;
    written?: WrittenFile;
  };
  /** API objects: the reference, whether it existed, and the blob holding it as fetched. */
  object?: {
    ref: KubeObjectRef;
    existed: boolean;
    blob?: string;
    /** The object as apply left it (server fields dropped), and its resourceVersion then. */
    appliedBlob?: string;
    appliedResourceVersion?: string;
    /** The object as the server's dry-run said the change would leave it, saved before the write:
     *  when the write's answer is lost (a timeout), rollback still knows that state as apply's own. */
    intendedBlob?: string;
  };
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
  action: "dry-run" | "backup" | "apply" | "skip" | "rollback" | "conflict" | "fail";
  result: string;
}

/** IDs sort as their backups were made: millisecond stamp, then a sequence within that millisecond. */
function newId(now: Date, seq: number): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${String(seq).padStart(4, "0")}-${randomBytes(3).toString("hex")}`;
}

/** New IDs (20240814T090136123Z-0000-1a2b3c) and those of earlier versions (20240814T090136Z-1a2b3c). */
const ID_PATTERN = /^(\d{8}T\d{9}Z-(\d{4})|\d{8}T\d{6}Z)-[0-9a-f]{6}$/;
const STAMP_LENGTH = "20240814T090136123Z".length;

/** A backup being built: `.<ID>.<pid>.<host>.partial` ([, id, pid, host]), or `.<ID>.partial` from
 *  earlier versions ([, id]), which name no maker. */
const PARTIAL_NAME = new RegExp(String.raw`^\.([^.]+)(?:\.${OWNER_PATTERN})?\.partial$`);

/** A partial of an earlier version is abandoned once it is this old: building one takes milliseconds. */
const LEGACY_PARTIAL_AGE_MS = 60 * 60 * 1000;

function stampTime(id: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})?Z/.exec(id);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms ?? 0));
}

/**
 * Removes the hidden husks of backups whose apply was killed while building them (before they got
 * their ID). Only names of this pattern under <stateDir>/backups, and only when their maker ran on
 * this host and is gone (or, for the earlier unnamed form, the ID is over an hour old).
 */
export async function sweepPartialBackups(stateDir: string, now: Date): Promise<Cleanup> {
  const root = resolve(stateDir, "backups");
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const m = PARTIAL_NAME.exec(name);
    if (m === null || !ID_PATTERN.test(m[1] ?? "")) continue;
    const gone =
      m[2] !== undefined
        ? makerGone(Number(m[2]), m[3] ?? "")
        : now.getTime() - (stampTime(m[1] ?? "") ?? now.getTime()) > LEGACY_PARTIAL_AGE_MS;
    if (!gone) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(join(root, name));
  }
  return { removed, notes: [] };
}

async function writeSynced(path: string, bytes: Buffer | string): Promise<void> {
  const h = await open(path, "w", 0o600);
  try {
    await h.writeFile(bytes);
    await h.sync();
  } finally {
    await h.close();
  }
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
    const root = join(args.stateDir, "backups");
    await mkdir(root, { recursive: true, mode: 0o700 });
    // The sequence continues after the highest one already made in this millisecond, so IDs made
    // one after another sort in that order even when they share a stamp (a clock that stands
    // still, a fixed `now`); the random tail keeps two concurrent runs from sharing a name.
    const stamp = newId(args.now, 0).slice(0, STAMP_LENGTH);
    let seq = 0;
    for (const name of await readdir(root)) {
      const m = ID_PATTERN.exec(name);
      if (m !== null && name.startsWith(`${stamp}-`)) seq = Math.max(seq, Number(m[2] ?? -1) + 1);
    }
    // Built under a hidden name and renamed into place once its manifest is on disk: a kill
    // before that leaves no backup ID that rollback would have to explain, only a hidden husk.
    const id = newId(args.now, Math.min(seq, 9999));
    const dir = join(root, id);
    const partial = join(root, `.${id}.${ownerTag()}.partial`);
    await mkdir(partial, { mode: 0o700 });
    await mkdir(join(partial, "blobs"), { mode: 0o700 });
    const manifest: BackupManifest = {
      schemaVersion: 1,
      id,
      advisoryId: args.advisoryId,
      createdAt: args.now.toISOString(),
      target: args.target,
      status: "in-progress",
      entries: [],
    };
    await writeSynced(join(partial, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    await syncDir(partial);
    await rename(partial, dir);
    await syncDir(root);
    return new BackupSession(dir, manifest, args.clock ?? (() => new Date()));
  }

  static async open(stateDir: string, id: string, clock?: () => Date): Promise<BackupSession> {
    if (!ID_PATTERN.test(id))
      throw new UsageError(`rollback: '${id}' is not a backup ID (e.g. 20240814T090136123Z-0000-1a2b3c)`);
    const dir = join(stateDir, "backups", id);
    let text: string;
    try {
      text = await readFile(join(dir, "manifest.json"), "utf8");
    } catch {
      throw new InputError(dir, "no such backup (see --state-dir)");
    }
    let manifest: BackupManifest;
    try {
      manifest = JSON.parse(text) as BackupManifest;
    } catch {
      throw new InputError(
        join(dir, "manifest.json"),
        "truncated or not JSON; restore the files by hand from blobs/",
      );
    }
    if (
      typeof manifest !== "object" ||
      manifest === null ||
      manifest.schemaVersion !== 1 ||
      !Array.isArray(manifest.entries) ||
      !manifest.entries.every((e) => typeof e === "object" && e !== null && typeof e.stepId === "string")
    )
      throw new InputError(join(dir, "manifest.json"), "not a cnidoctor backup manifest");
    return new BackupSession(dir, manifest, clock ?? (() => new Date()));
  }

  /** Durable before it returns: apply changes nothing until the backup of it is on disk. */
  async save(): Promise<void> {
    const file = join(this.dir, "manifest.json");
    await writeSynced(`${file}.tmp`, `${JSON.stringify(this.manifest, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
    await syncDir(this.dir);
  }

  async putBlob(name: string, bytes: Buffer | string): Promise<string> {
    await writeSynced(join(this.dir, "blobs", name), bytes);
    await syncDir(join(this.dir, "blobs"));
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
